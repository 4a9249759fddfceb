"""Failed sign-ins back off per account and per client; the API's rate limit counts per user or API key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from litestar.stores.memory import MemoryStore

from backend.auth import throttle as throttle_module
from backend.auth.throttle import ACCOUNT_CAP_S, ACCOUNT_FREE, CLIENT_CAP_S, CLIENT_FREE, Backoff, LoginThrottle
from tests.backend.auth.helpers import PASSWORD, Instance, Template, assert_problem
from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

T = TypeVar("T")
VICTIM = "victim@example.org"
WRONG = "not the right password"


class Clock:
    """The throttle's notion of now, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle_module, "time", clock)
    return clock


def login(instance: Instance, email: str, password: str) -> httpx.Response:
    return instance.client.post("/api/v1/auth/login", json={"email": email, "password": password})


def assert_throttled(response: httpx.Response) -> int:
    """A 429 problem with a whole, positive Retry-After; its seconds."""
    body = assert_problem(response, 429)
    assert body["type"] == "urn:outpost:problem:too-many-requests"
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) >= 1
    assert f"{retry_after} s" in body["detail"]
    return int(retry_after)


# The API, end to end in-process.


def test_free_failures_cost_nothing(fresh: Instance, clock: Clock) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    for _ in range(ACCOUNT_FREE):
        assert login(fresh, VICTIM, WRONG).status_code == 401
    assert login(fresh, VICTIM, PASSWORD).status_code == 200


def test_a_failure_past_the_free_ones_holds_the_account_back_even_for_the_right_password(
    fresh: Instance, clock: Clock
) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    for _ in range(ACCOUNT_FREE + 1):
        assert login(fresh, VICTIM, WRONG).status_code == 401
    assert assert_throttled(login(fresh, VICTIM, PASSWORD)) == 1
    assert assert_throttled(login(fresh, VICTIM, WRONG)) == 1  # refused unheard: not counted
    assert login(fresh, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200  # other accounts are not held back

    failures = [row for row in fresh.audit_rows("auth.login") if row["target"] == f"user:{VICTIM}"]
    assert [row["outcome"] for row in failures] == ["failure"] * (ACCOUNT_FREE + 1) + ["denied"] * 2
    assert failures[-1]["details"] == {"reason": "throttled (account)"}
    assert failures[-1]["actor_type"] == "anonymous"
    assert failures[0]["details"] == {"reason": "wrong password"}

    clock.advance(1)
    assert login(fresh, VICTIM, WRONG).status_code == 401  # the wait is over; this failure doubles it
    assert assert_throttled(login(fresh, VICTIM, PASSWORD)) == 2
    clock.advance(2)
    assert login(fresh, VICTIM, PASSWORD).status_code == 200


def test_the_client_limit_spans_accounts(fresh: Instance, clock: Clock) -> None:
    for number in range(CLIENT_FREE + 1):
        assert login(fresh, f"guess{number}@example.org", WRONG).status_code == 401
    assert_throttled(login(fresh, "guess-next@example.org", WRONG))
    # From this client, even the right password for an untouched account waits.
    assert_throttled(login(fresh, ADMIN_EMAIL, ADMIN_PASSWORD))
    [*_, last] = fresh.audit_rows("auth.login")
    assert (last["outcome"], last["details"]) == ("denied", {"reason": "throttled (client)"})
    assert last["client"] == "testclient"


def test_a_success_clears_the_accounts_count(fresh: Instance, clock: Clock) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    for _ in range(CLIENT_FREE // ACCOUNT_FREE):  # within the client's free failures, which a success keeps
        for _ in range(ACCOUNT_FREE):
            assert login(fresh, VICTIM, WRONG).status_code == 401
        assert login(fresh, VICTIM, PASSWORD).status_code == 200


def test_signing_into_ones_own_account_does_not_reset_guessing_at_others(fresh: Instance, clock: Clock) -> None:
    fresh.create_user("attacker@example.org", [])
    for number in range(CLIENT_FREE):
        assert login(fresh, f"target-{number}@example.org", WRONG).status_code == 401
    assert login(fresh, "attacker@example.org", PASSWORD).status_code == 200
    # The client's count survived the success: the next failure starts its backoff.
    assert login(fresh, "one-more@example.org", WRONG).status_code == 401
    assert_throttled(login(fresh, "and-another@example.org", WRONG))


def test_x_forwarded_for_does_not_escape_the_client_limit(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data")
    try:
        backend.wait_ready()
        with httpx.Client(base_url=backend.url) as http:
            for number in range(CLIENT_FREE + 1):
                body = {"email": f"guess{number}@example.org", "password": WRONG}
                assert http.post("/api/v1/auth/login", json=body).status_code == 401
            held_back = http.post("/api/v1/auth/login", json={"email": "next@example.org", "password": WRONG})
            assert held_back.status_code == 429  # the real server counts this client
            # The same client, naming another address for itself.
            spoofed = http.post(
                "/api/v1/auth/login",
                json={"email": "next@example.org", "password": WRONG},
                headers={"X-Forwarded-For": "10.0.0.99"},
            )
            assert spoofed.status_code == 429
    finally:
        backend.kill()


# LoginThrottle itself, on a memory store and our clock.


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def _waits_after_failures(throttle: LoginThrottle, failures: int, *, same_email: bool) -> list[int | None]:
    """The wait owed after each failure: one email from many clients, or many emails from one client."""
    waits: list[int | None] = []
    for number in range(failures):
        email, client = ("victim", f"client{number}") if same_email else (f"user{number}", "client")
        await throttle.failed(email, client)
        backoff = await throttle.check(email, client)
        waits.append(backoff.retry_after_s if backoff else None)
    return waits


def test_account_backoff_doubles_and_is_capped(clock: Clock) -> None:
    waits = _run(_waits_after_failures(LoginThrottle(MemoryStore()), ACCOUNT_FREE + 8, same_email=True))
    assert waits[:ACCOUNT_FREE] == [None] * ACCOUNT_FREE
    assert waits[ACCOUNT_FREE:] == [1, 2, 4, 8, 16, ACCOUNT_CAP_S, ACCOUNT_CAP_S, ACCOUNT_CAP_S]
    assert ACCOUNT_CAP_S == 30


def test_client_backoff_doubles_and_is_capped(clock: Clock) -> None:
    waits = _run(_waits_after_failures(LoginThrottle(MemoryStore()), CLIENT_FREE + 12, same_email=False))
    assert waits[:CLIENT_FREE] == [None] * CLIENT_FREE
    assert waits[CLIENT_FREE:] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, CLIENT_CAP_S, CLIENT_CAP_S]
    assert CLIENT_CAP_S == 15 * 60


def test_the_wait_runs_out_and_rounds_up(clock: Clock) -> None:
    async def scenario() -> list[Backoff | None]:
        throttle = LoginThrottle(MemoryStore())
        for _ in range(ACCOUNT_FREE + 2):  # a 2 s wait
            await throttle.failed("victim", "client")
        seen = [await throttle.check("victim", "client")]
        clock.advance(1.5)
        seen.append(await throttle.check("victim", "client"))
        clock.advance(0.5)
        seen.append(await throttle.check("victim", "client"))
        return seen

    assert _run(scenario()) == [Backoff(2, "account"), Backoff(1, "account"), None]


def test_check_reports_the_longer_wait_and_its_scope(clock: Clock) -> None:
    async def scenario() -> tuple[Backoff | None, Backoff | None, Backoff | None]:
        throttle = LoginThrottle(MemoryStore())
        for number in range(CLIENT_FREE + 3):  # the client owes 4 s
            await throttle.failed(f"user{number}", "client")
        for _ in range(ACCOUNT_FREE + 4):  # victim owes 8 s, from elsewhere
            await throttle.failed("victim", "elsewhere")
        return (
            await throttle.check("victim", "client"),
            await throttle.check("someone", "client"),
            await throttle.check("someone", "a third client"),
        )

    assert _run(scenario()) == (Backoff(8, "account"), Backoff(4, "client"), None)


def test_success_clears_the_account_count_but_not_the_clients(clock: Clock) -> None:
    async def scenario() -> Backoff | None:
        throttle = LoginThrottle(MemoryStore())
        for _ in range(CLIENT_FREE + 1):
            await throttle.failed("victim", "client")
        await throttle.succeeded("victim", "client")
        await throttle.failed("victim", "client")
        return await throttle.check("victim", "client")

    backoff = _run(scenario())
    assert backoff is not None
    assert backoff.scope == "client"


# The API rate limit, per principal.


@pytest.fixture
def limited(template: Template, data_dir: Path) -> Iterator[Instance]:
    """An instance allowing 5 requests a minute to each principal (the fixture itself spends one of the admin's)."""
    with template.copy(data_dir, rate_limit_per_minute=5) as instance:
        yield instance


def test_rate_limit_counts_each_api_key_separately(limited: Instance) -> None:
    keys = [limited.create_api_key(limited.admin, ["system:read"])["key"] for _ in range(2)]  # admin: 3 of 5
    for key in keys:
        answers = [limited.client.get("/api/v1/system", headers={"X-API-Key": key}).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
    limited_reply = limited.client.get("/api/v1/system", headers={"X-API-Key": keys[0]})
    assert assert_problem(limited_reply, 429)["type"] == "urn:outpost:problem:too-many-requests"
    # The admin has its own count, unspent by its keys: two left.
    answers = [limited.client.get("/api/v1/system", headers=limited.admin).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_rate_limit_for_anonymous_clients_counts_by_address_and_spares_probes(limited: Instance) -> None:
    answers = [limited.client.get("/api/v1/setup").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert all(limited.client.get("/health").status_code == 200 for _ in range(10))
    assert limited.client.get("/api/v1/system", headers=limited.admin).status_code == 200
