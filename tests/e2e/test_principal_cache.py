"""The in-memory principal cache against a real `outpost serve`: once a change is acknowledged, no request
that starts afterwards is let through on what was cached before it, while parallel clients keep reading."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.conftest import setup_token_header
from tests.waiting import wait_until

ADMIN = {"email": "cache-admin@example.org", "password": "field teams sign in here daily"}
READERS = 8
AFTER_CHANGE = 25  # requests each reader starts after the change was acknowledged


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    data_dir = tmp_path_factory.mktemp("principal-cache") / "data"
    process = BackendProcess(data_dir)
    try:
        process.wait_ready()
        made = httpx.post(f"{process.url}/api/v1/setup", json=ADMIN, headers=setup_token_header(data_dir))
        assert made.status_code == 201, made.text
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def admin(backend: BackendProcess) -> dict[str, str]:
    tokens = httpx.post(f"{backend.url}/api/v1/auth/login", json=ADMIN).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@dataclass
class Readers:
    """Clients that repeat one request until stopped; each reply's start time and status."""

    url: str
    path: str
    headers: dict[str, str]
    replies: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as http:
            while not self.stop.is_set():
                started = time.monotonic()
                status = http.get(self.path).status_code
                with self.lock:
                    self.replies.append((started, status))

    def started_after(self, moment: float) -> list[int]:
        with self.lock:
            return [status for started, status in self.replies if started > moment]


def while_reading(readers: Readers, change: Callable[[], httpx.Response]) -> tuple[list[int], list[int], float]:
    """Make the change while READERS clients read: the statuses before it began and after it was acknowledged,
    and when it was."""
    threads = [threading.Thread(target=readers.run) for _ in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        assert wait_until(lambda: len(readers.replies) >= 4 * READERS, timeout_s=60)
        began = time.monotonic()
        reply = change()
        assert reply.is_success, reply.text
        acknowledged = time.monotonic()
        assert wait_until(lambda: len(readers.started_after(acknowledged)) >= AFTER_CHANGE * READERS, timeout_s=120)
    finally:
        readers.stop.set()
        for thread in threads:
            thread.join(timeout=60)
    before = [status for started, status in readers.replies if started < began]
    return before, readers.started_after(acknowledged), acknowledged


def new_key(backend: BackendProcess, headers: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    made = httpx.post(f"{backend.url}/api/v1/api-keys", json={"name": "reader", "scopes": scopes}, headers=headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_revoked_key_is_refused_from_the_next_request_on(backend: BackendProcess, admin: dict[str, str]) -> None:
    key = new_key(backend, admin, ["*"])
    readers = Readers(backend.url, "/api/v1/auth/me", {"X-API-Key": key["key"]})
    before, after, _ = while_reading(
        readers, lambda: httpx.delete(f"{backend.url}/api/v1/api-keys/{key['api_key']['id']}", headers=admin)
    )
    assert set(before) == {200}
    assert set(after) == {401}


def test_a_roles_lost_permission_leaves_its_holders_keys_at_once(
    backend: BackendProcess, admin: dict[str, str]
) -> None:
    role = {"name": "reporter", "permissions": ["system:read", "api_keys:write"]}
    assert httpx.post(f"{backend.url}/api/v1/roles", json=role, headers=admin).status_code == 201
    person = {"email": "reporter@example.org", "password": "reports are read here daily", "roles": ["reporter"]}
    assert httpx.post(f"{backend.url}/api/v1/users", json=person, headers=admin).status_code == 201
    tokens = httpx.post(f"{backend.url}/api/v1/auth/login", json={k: person[k] for k in ("email", "password")}).json()
    key = new_key(backend, {"Authorization": f"Bearer {tokens['access_token']}"}, ["system:read"])
    readers = Readers(backend.url, "/api/v1/system", {"X-API-Key": key["key"]})
    before, after, _ = while_reading(
        readers,
        lambda: httpx.patch(
            f"{backend.url}/api/v1/roles/reporter", json={"permissions": ["api_keys:write"]}, headers=admin
        ),
    )
    assert set(before) == {200}
    assert set(after) == {403}


def test_a_disabled_owners_keys_and_tokens_stop_at_once(backend: BackendProcess, admin: dict[str, str]) -> None:
    roles = ["viewer", "key-maker"]
    role = {"name": "key-maker", "permissions": ["api_keys:write"]}
    assert httpx.post(f"{backend.url}/api/v1/roles", json=role, headers=admin).status_code == 201
    person = {"email": "leaver@example.org", "password": "leaving the field team soon", "roles": roles}
    made = httpx.post(f"{backend.url}/api/v1/users", json=person, headers=admin)
    assert made.status_code == 201, made.text
    tokens = httpx.post(f"{backend.url}/api/v1/auth/login", json={k: person[k] for k in ("email", "password")}).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    key = new_key(backend, bearer, ["system:read"])
    key_readers = Readers(backend.url, "/api/v1/auth/me", {"X-API-Key": key["key"]})
    token_readers = Readers(backend.url, "/api/v1/auth/me", bearer)
    token_threads = [threading.Thread(target=token_readers.run) for _ in range(2)]
    for thread in token_threads:
        thread.start()
    try:
        before, after, acknowledged = while_reading(
            key_readers,
            lambda: httpx.patch(
                f"{backend.url}/api/v1/users/{made.json()['id']}", json={"is_active": False}, headers=admin
            ),
        )
        assert wait_until(lambda: len(token_readers.started_after(acknowledged)) >= AFTER_CHANGE, timeout_s=60)
    finally:
        token_readers.stop.set()
        for thread in token_threads:
            thread.join(timeout=60)
    assert set(before) == {200}
    assert set(after) == {401}
    assert set(token_readers.started_after(acknowledged)) == {401}
