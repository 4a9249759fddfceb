"""Overload against a real `outpost serve`: writes queued past the writer's wait get 503 + Retry-After, never a
500, and every write that was acknowledged is there afterwards."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from backend.errors import PROBLEM_JSON
from tests.backend_process import BackendProcess
from tests.conftest import setup_token_header

ADMIN = {"email": "busy-admin@example.org", "password": "field teams sign in here daily"}
WRITERS = 32
MAX_ROUNDS = 30  # bursts tried until one overloads the writer (the first usually does)


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendProcess]:
    monkeypatch.setenv("OUTPOST_WRITER_WAIT_S", "0.005")  # a write waits 5 ms for the writer, then is refused
    process = BackendProcess(tmp_path / "data")
    try:
        process.wait_ready()
        made = httpx.post(f"{process.url}/api/v1/setup", json=ADMIN, headers=setup_token_header(tmp_path / "data"))
        assert made.status_code == 201, made.text
        yield process
    finally:
        process.kill()


def test_writes_past_the_writers_wait_are_503_and_no_acknowledged_write_is_lost(backend: BackendProcess) -> None:
    tokens = httpx.post(f"{backend.url}/api/v1/auth/login", json=ADMIN, timeout=60)
    assert tokens.status_code == 200, tokens.text  # a lone sign-in waits for nobody
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    statuses: Counter[int] = Counter()
    acknowledged: set[str] = set()
    refusals: list[httpx.Response] = []

    def burst(round_no: int) -> None:
        start = threading.Barrier(WRITERS)

        def create(n: int) -> httpx.Response:
            with httpx.Client(base_url=backend.url, headers=headers, timeout=60) as http:
                start.wait()
                return http.post("/api/v1/api-keys", json={"name": f"k{round_no}-{n}", "scopes": ["system:read"]})

        with ThreadPoolExecutor(WRITERS) as pool:
            for reply in pool.map(create, range(WRITERS)):
                statuses[reply.status_code] += 1
                if reply.status_code == 201:
                    acknowledged.add(reply.json()["api_key"]["id"])
                elif reply.status_code == 503:
                    refusals.append(reply)

    for round_no in range(MAX_ROUNDS):
        burst(round_no)
        if statuses[503]:
            break
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503], f"no burst of {WRITERS} writers overloaded the writer: {statuses}"
    for reply in refusals:
        assert reply.headers["content-type"] == PROBLEM_JSON
        assert reply.headers["retry-after"].isdigit()
        assert reply.json()["status"] == 503
    listed: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{backend.url}/api/v1/api-keys", params=params, headers=headers, timeout=60).json()
        listed |= {item["id"] for item in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert acknowledged <= listed
    assert len(listed) == len(acknowledged)  # and no refused write happened after all
