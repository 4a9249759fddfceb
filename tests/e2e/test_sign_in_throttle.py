"""The sign-in throttle against a real `outpost serve` and parallel clients: bursts, lock-outs, device tokens."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from backend.auth.throttle import ACCOUNT_CAP_S, ACCOUNT_FREE
from tests.backend_process import BackendProcess
from tests.waiting import wait_until

PASSWORD = "correct horse battery staple 7"
WRONG = "not the right password"
OWNER = "owner@example.org"
BURSTS = (10, 25, 50)
OWNER_SIGN_INS = 20


def create_user(data_dir: Path, email: str) -> None:
    """A user made with the CLI on a data dir no backend holds yet."""
    made = subprocess.run(
        [sys.executable, "-m", "backend", "user", "create", "--email", email, "--password-stdin",
         "--data-dir", str(data_dir)],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """A backend whose users are the owner and one victim per burst size."""
    data_dir = tmp_path_factory.mktemp("throttle") / "data"
    for email in [OWNER, *(f"victim{size}@example.org" for size in BURSTS)]:
        create_user(data_dir, email)
    process = BackendProcess(data_dir)
    try:
        process.wait_ready()
        yield process
    finally:
        process.kill()


def verifications_allowed(elapsed_s: float) -> int:
    """The most password checks one account's throttle may allow in elapsed_s from a clean start.

    The free attempts, the one that starts the backoff, then one each time a wait (1, 2, 4 … s, at most
    ACCOUNT_CAP_S) runs out, and one more for an attempt already past its check when a window closed.
    """
    allowed, waited, wait = ACCOUNT_FREE + 1, 0.0, 1.0
    while waited + wait <= elapsed_s:
        allowed, waited, wait = allowed + 1, waited + wait, min(2 * wait, ACCOUNT_CAP_S)
    return allowed + 1


def login(http: httpx.Client, email: str, password: str, device_token: str | None = None) -> httpx.Response:
    body = {"email": email, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    return http.post("/api/v1/auth/login", json=body)


def parallel_logins(url: str, email: str, count: int) -> list[int]:
    """count wrong-password sign-ins for one account, released at once from count threads; their statuses."""
    start = threading.Barrier(count)

    def attempt(_: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            return login(http, email, WRONG).status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(attempt, range(count)))


def audited_reasons(data_dir: Path, target: str) -> Counter[str]:
    """How many sign-in audit rows for target carry each outcome and reason."""
    with closing(sqlite3.connect(data_dir / "outpost.db", timeout=10)) as db:
        rows = db.execute(
            "SELECT outcome, json_extract(details, '$.reason') FROM audit_events WHERE action = 'auth.login' "
            "AND target = ?",
            (target,),
        ).fetchall()
    return Counter(f"{outcome}: {reason}" for outcome, reason in rows)


@pytest.mark.parametrize("size", BURSTS)
def test_a_burst_of_parallel_guesses_gets_only_the_free_attempts_checked(backend: BackendProcess, size: int) -> None:
    email = f"victim{size}@example.org"
    started = time.monotonic()
    statuses = parallel_logins(backend.url, email, size)
    elapsed = time.monotonic() - started
    answered = Counter(statuses)
    assert set(answered) <= {401, 429}, answered
    assert answered[401] <= verifications_allowed(elapsed), (answered, elapsed)
    assert answered[401] >= ACCOUNT_FREE  # the free ones were heard
    audited = audited_reasons(backend.data_dir, f"user:{email}")
    assert audited == {"failure: wrong password": answered[401], "denied: throttled (account)": answered[429]}


class Hammer:
    """Threads that sign in with attempt() until stopped, counting the replies."""

    def __init__(self, url: str, attempt: Callable[[httpx.Client], httpx.Response], threads: int) -> None:
        self.url, self.attempt = url, attempt
        self.replies: Counter[int] = Counter()
        self.held_until = 0.0  # monotonic time until which a 429's Retry-After said the account is held back
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                reply = self.attempt(http)
                with self.lock:
                    self.replies[reply.status_code] += 1
                    if reply.status_code == 429:
                        wait_s = int(reply.headers.get("retry-after", "0"))
                        self.held_until = max(self.held_until, time.monotonic() + wait_s)

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_the_owner_with_a_device_token_gets_in_while_attackers_hammer(backend: BackendProcess) -> None:
    with httpx.Client(base_url=backend.url, timeout=60) as owner:
        first = login(owner, OWNER, PASSWORD)
        assert first.status_code == 200, first.text
        device_token = first.json()["device_token"]

        guesser = Hammer(backend.url, lambda http: login(http, OWNER, WRONG), threads=2)
        sprayer = Hammer(backend.url, lambda http: login(http, f"{uuid.uuid4().hex}@example.org", WRONG), threads=2)
        started = time.monotonic()
        with guesser, sprayer:
            assert wait_for_replies(guesser, ACCOUNT_FREE + 3)  # the account is held back by now
            outcomes = []
            for _ in range(OWNER_SIGN_INS):
                reply = login(owner, OWNER, PASSWORD, device_token)
                outcomes.append(reply.status_code)
                if reply.status_code == 200:
                    device_token = reply.json()["device_token"]
            # A client without the owner's device token is held back like the guesser: tried while a wait of a
            # few seconds is surely still running (early waits are 1-2 s, and a window may open between them).
            assert wait_until(lambda: guesser.held_until - time.monotonic() >= 3, timeout_s=60)
            stranger = login(owner, OWNER, PASSWORD)
        elapsed = time.monotonic() - started

    assert outcomes == [200] * OWNER_SIGN_INS
    assert stranger.status_code == 429, stranger.text
    # The guesser stayed slow: at most the account's allowance was checked, however hard it pushed.
    assert guesser.replies[401] <= verifications_allowed(elapsed), (guesser.replies, elapsed)
    assert guesser.replies[429] > guesser.replies[401]
    assert sprayer.replies[401] > 0  # random unknown emails were heard, and locked nobody out


def wait_for_replies(hammer: Hammer, count: int) -> bool:
    """Whether hammer got count replies within a minute."""
    return wait_until(lambda: sum(hammer.replies.values()) >= count, timeout_s=60)
