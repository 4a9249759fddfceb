"""Audited events arriving at once on a real `outpost serve`: every one answered and recorded, the chain intact."""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.backend_process import BackendProcess, run_outpost

ADMIN = ("admin@example.org", "a long test passphrase 42")
VIEWER = ("viewer@example.org", "another long passphrase 7")
PARALLEL = 20


def outpost(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI on data_dir (carried out by the running backend over its control channel)."""
    return run_outpost(*args, "--data-dir", str(data_dir), stdin=stdin)


def create_user(data_dir: Path, email: str, password: str, role: str) -> None:
    created = outpost(data_dir, "user", "create", "--email", email, "--role", role, "--password-stdin", stdin=password)
    assert created.returncode == 0, created.stderr


def bearer(url: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audit_events(url: str, headers: dict[str, str], action: str) -> list[dict[str, object]]:
    """Every audit event of one action, newest first, over every page."""
    events: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"action": action, "limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{url}/api/v1/audit", params=params, headers=headers)
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return events


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """A running backend with an administrator and a viewer, made through the CLI."""
    process = BackendProcess(tmp_path_factory.mktemp("audit") / "data")
    try:
        process.wait_ready()
        create_user(process.data_dir, *ADMIN, "admin")
        create_user(process.data_dir, *VIEWER, "viewer")
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def viewer(backend: BackendProcess) -> dict[str, str]:
    """The viewer's Authorization header, taken before any test throttles this machine's sign-ins."""
    return bearer(backend.url, *VIEWER)


def in_parallel(count: int, call: object) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: call(i), range(count)))  # type: ignore[operator]


def test_parallel_denials_are_each_refused_and_audited(backend: BackendProcess, viewer: dict[str, str]) -> None:
    replies = in_parallel(PARALLEL, lambda _i: httpx.get(f"{backend.url}/api/v1/users", headers=viewer, timeout=60))
    assert Counter(r.status_code for r in replies) == {403: PARALLEL}
    admin = bearer(backend.url, *ADMIN)
    denials = [e for e in audit_events(backend.url, admin, "access.denied") if e["actor_label"] == VIEWER[0]]
    assert len(denials) == PARALLEL
    assert {e["request_id"] for e in denials} == {r.headers["X-Request-ID"] for r in replies}


def test_parallel_failed_sign_ins_are_each_answered_and_audited(backend: BackendProcess) -> None:
    emails = [f"nobody-{uuid.uuid4().hex[:8]}@example.org" for _ in range(PARALLEL)]

    def attempt(i: int) -> httpx.Response:
        body = {"email": emails[i], "password": "not the password at all"}
        return httpx.post(f"{backend.url}/api/v1/auth/login", json=body, timeout=60)

    admin = bearer(backend.url, *ADMIN)  # before the burst, which throttles this machine's sign-ins for a while
    replies = in_parallel(PARALLEL, attempt)
    # Unknown emails fail (401), and past the client's free attempts the throttle answers (429); never a 500.
    assert set(Counter(r.status_code for r in replies)) <= {401, 429}, [r.text for r in replies]
    ids = {r.headers["X-Request-ID"] for r in replies}
    recorded = [e for e in audit_events(backend.url, admin, "auth.login") if e["request_id"] in ids]
    assert len(recorded) == PARALLEL
    assert {e["outcome"] for e in recorded} <= {"failure", "denied"}


def test_the_chain_verifies_after_concurrent_appends(backend: BackendProcess, viewer: dict[str, str]) -> None:
    in_parallel(PARALLEL, lambda _i: httpx.get(f"{backend.url}/api/v1/roles", headers=viewer, timeout=60))
    in_parallel(PARALLEL, lambda _i: httpx.post(f"{backend.url}/api/v1/api-keys", json={"name": "x"}, headers=viewer))
    assert backend.stop() == 0
    verified = outpost(backend.data_dir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
