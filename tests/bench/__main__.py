"""`python -m tests.bench [http|exe] [options]`: HTTP throughput, then the executable (both by default)."""

import sys

from tests.bench import exe_bench, http_bench

SUITES = {"http": http_bench.main, "exe": exe_bench.main}

args = sys.argv[1:]
if args and args[0] in SUITES:
    raise SystemExit(SUITES[args[0]](args[1:]))
codes = [http_bench.main(args), exe_bench.main([])]
raise SystemExit(max(codes))
