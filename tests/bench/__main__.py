"""`python -m tests.bench [http|auth|exe|contains] [options]`: HTTP, identity, the executable (default), filter `~`."""

import sys

from tests.bench import auth_bench, contains_bench, exe_bench, http_bench

SUITES = {"http": http_bench.main, "auth": auth_bench.main, "exe": exe_bench.main, "contains": contains_bench.main}

args = sys.argv[1:]
if args and args[0] in SUITES:
    raise SystemExit(SUITES[args[0]](args[1:]))
codes = [http_bench.main(args), auth_bench.main([]), exe_bench.main([])]
raise SystemExit(max(codes))
