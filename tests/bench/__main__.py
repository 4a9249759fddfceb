"""`python -m tests.bench [http|auth|exe|crash] [options]`: HTTP, identity, the executable (default), crashes."""

import sys

from tests.bench import auth_bench, crash_bench, exe_bench, http_bench

SUITES = {"http": http_bench.main, "auth": auth_bench.main, "exe": exe_bench.main, "crash": crash_bench.main}

args = sys.argv[1:]
if args and args[0] in SUITES:
    raise SystemExit(SUITES[args[0]](args[1:]))
codes = [http_bench.main(args), auth_bench.main([]), exe_bench.main([])]
raise SystemExit(max(codes))
