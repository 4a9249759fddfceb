"""`python -m tests.bench`: the HTTP throughput benchmark."""

from tests.bench.http_bench import main

raise SystemExit(main())
