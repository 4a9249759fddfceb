"""Behind a trusted proxy, a real `outpost serve` sees the client X-Forwarded-For names; without one, the socket's."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from backend.auth.throttle import CLIENT_FREE
from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, setup_token_header
from tests.e2e.test_audit_concurrency import audit_events, bearer
from tests.e2e.test_sign_in_throttle import PASSWORD, WRONG, create_user

FAR = "203.0.113.9"  # documentation addresses: clients the proxy speaks for
OTHER = "198.51.100.4"
PARALLEL = 3 * CLIENT_FREE


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_behind_a_trusted_proxy_loopback_means_nothing_and_each_client_is_throttled_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backend = BackendProcess(data_dir, "--trusted-proxies", "127.0.0.1")
    try:
        backend.wait_ready()
        credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        token = setup_token_header(data_dir)
        for headers in ({**token, **_from(FAR)}, token):  # a far client; the proxy's own request, no client named
            refused = httpx.post(f"{backend.url}/api/v1/setup", json=credentials, headers=headers)
            assert refused.status_code == 403, refused.text
            assert "from the machine the backend runs on" in refused.json()["detail"]
        create_user(data_dir, "owner@example.org")

        def guess(number: int) -> int:  # each for another account: only the client's counter can hold them back
            body = {"email": f"nobody{number}@example.org", "password": WRONG}
            return httpx.post(f"{backend.url}/api/v1/auth/login", json=body, headers=_from(FAR)).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            answers = Counter(pool.map(guess, range(PARALLEL)))
        # The free attempts, the one that starts the backoff, and one each time a wait (1, 2, 4 ... s) ran out.
        allowed = CLIENT_FREE + 2 + int(time.monotonic() - started).bit_length()
        assert answers[401] <= allowed, answers
        assert answers[429] == PARALLEL - answers[401], answers
        owner = {"email": "owner@example.org", "password": PASSWORD}
        signed_in = httpx.post(f"{backend.url}/api/v1/auth/login", json=owner, headers=_from(OTHER))
        assert signed_in.status_code == 200, signed_in.text  # another client, not held back by the first
    finally:
        backend.kill()


def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backend = BackendProcess(data_dir)
    try:
        backend.wait_ready()
        credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        headers = {**setup_token_header(data_dir), **_from(FAR)}
        made = httpx.post(f"{backend.url}/api/v1/setup", json=credentials, headers=headers)
        assert made.status_code == 201, made.text  # a local client, whatever its header says
        admin = bearer(backend.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        failed = httpx.post(
            f"{backend.url}/api/v1/auth/login", json={**credentials, "password": WRONG}, headers=_from(FAR)
        )
        assert failed.status_code == 401
        events = audit_events(backend.url, admin, "auth.login")
        assert {event["client"] for event in events} == {"127.0.0.1"}, events
    finally:
        backend.kill()
