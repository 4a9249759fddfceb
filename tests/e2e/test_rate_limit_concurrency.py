"""The per-principal rate limit under parallel clients on a real `outpost serve`: exactly the limit gets through."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.e2e.admin_backend import admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, bearer

LIMIT = 120
WINDOW_S = 60
PARALLEL = 16
PER_CLIENT = 20  # 320 requests in all, well past the limit


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with admin_backend(
        tmp_path_factory.mktemp("limited") / "data", {"OUTPOST_RATE_LIMIT_PER_MINUTE": str(LIMIT)}
    ) as process:
        yield process


def test_parallel_clients_of_one_principal_share_one_count(backend: BackendProcess) -> None:
    headers = bearer(backend.url, *ADMIN)  # the sign-in is outside the count (an unauthenticated route)

    def client(_: int) -> list[httpx.Response]:
        with httpx.Client(base_url=backend.url, headers=headers, timeout=30) as http:
            return [http.get("/api/v1/auth/me") for _ in range(PER_CLIENT)]

    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        replies = [reply for batch in pool.map(client, range(PARALLEL)) for reply in batch]
    if time.monotonic() - started > WINDOW_S - 5:
        pytest.skip("the run outlasted the minute's window: the count would rightly start again")
    statuses = Counter(reply.status_code for reply in replies)
    assert statuses == {200: LIMIT, 429: len(replies) - LIMIT}, statuses
    # Each admitted request was counted once and no two saw the same count.
    remaining = sorted(int(reply.headers["ratelimit-remaining"]) for reply in replies if reply.status_code == 200)
    assert remaining == list(range(LIMIT)), remaining
    refused = next(reply for reply in replies if reply.status_code == 429)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= WINDOW_S
