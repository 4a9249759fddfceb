"""The per-principal rate limit: a problem+json 429 with Retry-After, documented on every operation it reaches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.errors import PROBLEM_JSON
from backend.rate_limit import MemoryWindowCounter, Window
from backend.settings import load_settings
from backend.startup import prepare_data_dir
from tests.conftest import TEST_HOST

LIMIT = 5
UNLIMITED = {"/health", "/ready"}  # and everything under /schema


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def limited(data_dir: Path) -> Iterator[TestClient[Litestar]]:
    settings = load_settings({"data_dir": data_dir, "allowed_hosts": TEST_HOST, "rate_limit_per_minute": LIMIT}, {})
    with TestClient(create_app(prepare_data_dir(settings).settings), base_url=f"http://{TEST_HOST}") as client:
        yield client


def test_the_429_is_a_problem_with_retry_after(limited: TestClient[Litestar]) -> None:
    statuses = [limited.get("/api/v1/setup").status_code for _ in range(LIMIT)]
    assert statuses == [200] * LIMIT
    refused = limited.get("/api/v1/setup")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["type"] == "urn:outpost:problem:too-many-requests"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert refused.headers["ratelimit-limit"] == str(LIMIT)
    assert refused.headers["ratelimit-remaining"] == "0"
    # /health stays outside the limit: a supervisor must always reach it.
    assert limited.get("/health").status_code == 200


def test_429_is_documented_on_every_operation_the_limit_reaches(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            limited = path not in UNLIMITED and not path.startswith("/schema")
            assert ("429" in operation["responses"]) == limited, f"{method.upper()} {path}"
            if limited:
                documented = operation["responses"]["429"]
                assert "application/problem+json" in documented["content"]
                assert "Retry-After" in documented["description"], f"{method.upper()} {path}"


@pytest.mark.anyio
async def test_a_window_counts_until_it_ends_then_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = MemoryWindowCounter()
    now = [1_000.0]
    monkeypatch.setattr("backend.rate_limit.time", lambda: now[0])
    assert [(await counter.hit("a", 60)).count for _ in range(3)] == [1, 2, 3]
    assert (await counter.hit("b", 60)).count == 1  # its own window
    now[0] += 59
    assert await counter.hit("a", 60) == Window(4, 1_060)
    now[0] += 1
    assert await counter.hit("a", 60) == Window(1, 1_120)


@pytest.mark.anyio
async def test_ended_windows_are_dropped_once_many_are_held(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = MemoryWindowCounter()
    monkeypatch.setattr("backend.rate_limit.MAX_KEYS", 10)
    monkeypatch.setattr("backend.rate_limit.time", lambda: 1_000.0)
    for n in range(10):
        await counter.hit(f"old {n}", 60)
    monkeypatch.setattr("backend.rate_limit.time", lambda: 2_000.0)
    await counter.hit("new", 60)
    assert len(counter._windows) == 1


def test_remaining_counts_down_one_request_at_a_time(limited: TestClient[Litestar]) -> None:
    remaining = [int(limited.get("/api/v1/setup").headers["ratelimit-remaining"]) for _ in range(LIMIT)]
    assert remaining == list(range(LIMIT - 1, -1, -1))
