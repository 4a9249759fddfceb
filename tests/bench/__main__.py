"""`python -m tests.bench [SUITE] [options]`: with no suite, HTTP, identity and the executable; see SUITES."""

import sys

from tests.bench import (
    auth_bench,
    contains_bench,
    crash_bench,
    exe_bench,
    grid_bench,
    http_bench,
    jobs_bench,
    records_bench,
    schema_bench,
    server_bench,
)

SUITES = {
    "http": http_bench.main,
    "auth": auth_bench.main,
    "exe": exe_bench.main,
    "crash": crash_bench.main,
    "contains": contains_bench.main,
    "grid": grid_bench.main,
    "schema": schema_bench.main,
    "records": records_bench.main,
    "jobs": jobs_bench.main,
    "server": server_bench.main,
}
DEFAULT = ("http", "auth", "exe")

args = sys.argv[1:]
if args and args[0] in SUITES:
    raise SystemExit(SUITES[args[0]](args[1:]))
codes = [SUITES[name](args if name == "http" else []) for name in DEFAULT]
raise SystemExit(max(codes))
