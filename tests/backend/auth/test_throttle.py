"""Sign-ins back off per account, remote client or device token; unknown identifiers are hashed; the API's rate
limit counts per user or API key."""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import jwt
import pytest

from backend.auth import throttle as throttle_module
from backend.auth.throttle import (
    ACCOUNT_CAP_S,
    ACCOUNT_FREE,
    CLIENT_CAP_S,
    CLIENT_FREE,
    DEVICE_FREE,
    FORGET_AFTER_S,
    Backoff,
    Counted,
)
from backend.auth.tokens import derive_key
from tests.backend.auth.helpers import PASSWORD, Instance, Template, assert_problem, bearer
from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_HOST

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


def login_from(instance: Instance, address: str, email: str, password: str) -> httpx.Response:
    """A sign-in as if from address: the app called on its own event loop with that ASGI client."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=instance.client.app, client=(address, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as other:
            return await other.post("/api/v1/auth/login", json={"email": email, "password": password})

    return instance.call(call)


REMOTE = "10.0.0.5"


def test_a_remote_clients_limit_spans_accounts(fresh: Instance, clock: Clock) -> None:
    for number in range(CLIENT_FREE + 1):
        assert login_from(fresh, REMOTE, f"guess{number}@example.org", WRONG).status_code == 401
    assert_throttled(login_from(fresh, REMOTE, "guess-next@example.org", WRONG))
    # From this client, even the right password for an untouched account waits.
    assert_throttled(login_from(fresh, REMOTE, ADMIN_EMAIL, ADMIN_PASSWORD))
    [*_, last] = fresh.audit_rows("auth.login")
    assert (last["outcome"], last["details"]) == ("denied", {"reason": "throttled (client)"})
    assert last["client"] == REMOTE
    # Another machine is not held back.
    assert login_from(fresh, "10.0.0.6", ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_failures_on_unknown_emails_from_this_machine_hold_no_account_back(fresh: Instance, clock: Clock) -> None:
    """Every local program is 127.0.0.1: guesses at random emails there must not lock out the machine."""
    for number in range(CLIENT_FREE * 3):
        assert login(fresh, f"guess{number}@example.org", WRONG).status_code == 401
    assert login(fresh, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_a_success_clears_the_accounts_count(fresh: Instance, clock: Clock) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    for _ in range(CLIENT_FREE // ACCOUNT_FREE):  # within the client's free failures, which a success keeps
        for _ in range(ACCOUNT_FREE):
            assert login_from(fresh, REMOTE, VICTIM, WRONG).status_code == 401
        assert login_from(fresh, REMOTE, VICTIM, PASSWORD).status_code == 200


def test_signing_into_ones_own_account_does_not_reset_guessing_at_others(fresh: Instance, clock: Clock) -> None:
    fresh.create_user("attacker@example.org", [])
    for number in range(CLIENT_FREE):
        assert login_from(fresh, REMOTE, f"target-{number}@example.org", WRONG).status_code == 401
    assert login_from(fresh, REMOTE, "attacker@example.org", PASSWORD).status_code == 200
    # The client's count survived the success: the next failure starts its backoff.
    assert login_from(fresh, REMOTE, "one-more@example.org", WRONG).status_code == 401
    assert_throttled(login_from(fresh, REMOTE, "and-another@example.org", WRONG))


def test_x_forwarded_for_does_not_name_the_client(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data")
    try:
        backend.wait_ready()
        with httpx.Client(base_url=backend.url) as http:
            spoofed = http.post(
                "/api/v1/auth/login",
                json={"email": "next@example.org", "password": WRONG},
                headers={"X-Forwarded-For": "10.0.0.99"},
            )
            assert spoofed.status_code == 401
        with closing(sqlite3.connect(tmp_path / "data" / "outpost.db")) as db:
            clients = db.execute("SELECT client FROM audit_events WHERE action = 'auth.login'").fetchall()
        assert clients == [("127.0.0.1",)]  # the connection's address: the throttle counts the real client
    finally:
        backend.kill()


# Device tokens (OWASP device cookies).


def login_with(instance: Instance, email: str, password: str, device_token: str | None) -> httpx.Response:
    body = {"email": email, "password": password, "device_token": device_token}
    return instance.client.post("/api/v1/auth/login", json=body)


def lock_out_the_account(instance: Instance, email: str) -> None:
    """Fail until clients without a device token are held back."""
    for _ in range(ACCOUNT_FREE + 1):
        assert login(instance, email, WRONG).status_code == 401
    assert_throttled(login(instance, email, PASSWORD))


def test_a_sign_in_returns_a_device_token_that_gets_its_holder_past_a_locked_account(
    fresh: Instance, clock: Clock
) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    device_token = fresh.login(VICTIM)["device_token"]
    lock_out_the_account(fresh, VICTIM)
    for _ in range(3):
        reply = login_with(fresh, VICTIM, PASSWORD, device_token)
        assert reply.status_code == 200, reply.text
        device_token = reply.json()["device_token"]
    assert_throttled(login(fresh, VICTIM, PASSWORD))  # the others are still held back


def test_failures_with_a_device_token_lock_out_that_token_not_the_account(fresh: Instance, clock: Clock) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    device_token = fresh.login(VICTIM)["device_token"]
    for _ in range(DEVICE_FREE + 1):
        assert login_with(fresh, VICTIM, WRONG, device_token).status_code == 401
    assert assert_throttled(login_with(fresh, VICTIM, PASSWORD, device_token)) == 1
    [*_, last] = fresh.audit_rows("auth.login")
    assert last["details"] == {"reason": "throttled (device)"}
    assert login(fresh, VICTIM, PASSWORD).status_code == 200  # the account itself was never counted
    clock.advance(1)
    assert login_with(fresh, VICTIM, PASSWORD, device_token).status_code == 200


@pytest.mark.parametrize("kind", ["other account", "forged", "garbage", "access token"])
def test_a_device_token_not_for_this_account_counts_as_none(fresh: Instance, clock: Clock, kind: str) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    other = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    claims = {"sub": "x", "iat": 1, "exp": 2**40, "iss": "outpost", "aud": "outpost-device", "jti": "abc"}
    device_token = {
        "other account": other["device_token"],
        "forged": jwt.encode(claims, "not the key of this instance at all", algorithm="HS256"),
        "garbage": "not a token at all",
        "access token": other["access_token"],
    }[kind]
    for _ in range(ACCOUNT_FREE + 1):
        assert login_with(fresh, VICTIM, WRONG, device_token).status_code == 401
    assert_throttled(login_with(fresh, VICTIM, PASSWORD, device_token))


def test_a_device_token_is_not_an_access_token(fresh: Instance) -> None:
    device_token = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)["device_token"]
    assert fresh.me(bearer(device_token)).status_code == 401


def test_the_login_operation_documents_the_device_token(fresh: Instance) -> None:
    document = fresh.client.get("/schema/openapi.json").json()
    operation = document["paths"]["/api/v1/auth/login"]["post"]
    assert "device_token" in operation["description"]
    schemas = document["components"]["schemas"]
    assert "device_token" in schemas["Credentials"]["properties"]
    assert "device_token" in schemas["SignedIn"]["properties"]


# Unknown identifiers in the audit log.


def test_an_unknown_identifier_is_audited_as_a_keyed_hash_not_as_text(fresh: Instance, clock: Clock) -> None:
    typed = "My Secret Passphrase 99"  # a password typed into the email box
    assert login(fresh, typed, "whatever").status_code == 401
    assert login(fresh, typed.lower(), "whatever").status_code == 401
    first, second = fresh.audit_rows("auth.login")[-2:]
    label = first["actor_label"]
    assert re.fullmatch(r"unknown:[0-9a-f]{16}", label), label
    assert (second["actor_label"], first["target"]) == (label, f"user:{label}")  # one identifier, one label
    expected = hmac.new(derive_key(fresh.secret, "unknown-identifier"), typed.lower().encode(), hashlib.sha256)
    assert label == "unknown:" + expected.hexdigest()[:16]
    dump = "\n".join(str(row) for row in fresh.sql("SELECT * FROM audit_events")).lower()
    assert "secret passphrase" not in dump


def test_a_known_users_email_stays_readable_in_a_failed_sign_in(fresh: Instance, clock: Clock) -> None:
    fresh.create_user(VICTIM, ["viewer"])
    assert login(fresh, VICTIM.upper(), WRONG).status_code == 401
    [row] = fresh.audit_rows("auth.login")[-1:]
    assert (row["actor_label"], row["target"]) == (VICTIM, f"user:{VICTIM}")


# LoginThrottle itself, on the instance's database and our clock.


def _claims(instance: Instance, counted: tuple[Counted, ...], attempts: int) -> list[Backoff | None]:
    """Claim attempts times; each answer (None: counted and let through)."""

    async def scenario() -> list[Backoff | None]:
        answers = []
        throttle = instance.identity.sessions.throttle
        for _ in range(attempts):
            answers.append(await instance.client.app.state.db.write_in_thread(lambda s: throttle.claim(s, counted)))
        return answers

    return list(instance.call(scenario))


def _release(instance: Instance, counted: tuple[Counted, ...]) -> None:
    async def scenario() -> None:
        throttle = instance.identity.sessions.throttle
        await instance.client.app.state.db.write_in_thread(lambda s: throttle.release(s, counted))

    instance.call(scenario)


def _waits(instance: Instance, clock: Clock, counted: tuple[Counted, ...], attempts: int) -> list[int]:
    """The wait owed after each attempt past the free ones, the clock moved past each."""
    waits = []
    for _ in range(attempts):
        [answer] = _claims(instance, counted, 1)
        if answer is not None:
            waits.append(answer.retry_after_s)
            clock.advance(answer.retry_after_s)
            assert _claims(instance, counted, 1) == [None]
    return waits


def test_account_backoff_doubles_and_is_capped(fresh: Instance, clock: Clock) -> None:
    counted = fresh.identity.sessions.throttle.counters("victim", "127.0.0.1")
    assert _claims(fresh, counted, ACCOUNT_FREE + 1) == [None] * (ACCOUNT_FREE + 1)
    assert _waits(fresh, clock, counted, 12) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, ACCOUNT_CAP_S, ACCOUNT_CAP_S]
    assert ACCOUNT_CAP_S == 15 * 60  # a guesser without the owner's device token gets ~4 checks an hour


def test_client_backoff_doubles_and_is_capped(fresh: Instance, clock: Clock) -> None:
    throttle = fresh.identity.sessions.throttle
    client = tuple(item for item in throttle.counters("victim", REMOTE) if item.limit.scope == "client")
    assert _claims(fresh, client, CLIENT_FREE + 1) == [None] * (CLIENT_FREE + 1)
    waits = _waits(fresh, clock, client, 12)
    # The cap holds: a wait as long as the forgetting window does not hand the free attempts back.
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, CLIENT_CAP_S, CLIENT_CAP_S]
    assert CLIENT_CAP_S == 15 * 60


def test_a_refused_attempt_is_not_counted_and_the_wait_rounds_up(fresh: Instance, clock: Clock) -> None:
    counted = fresh.identity.sessions.throttle.counters("victim", "127.0.0.1")
    _claims(fresh, counted, ACCOUNT_FREE + 1)  # the 6th starts the backoff: 1 s owed
    clock.advance(0.5)
    assert _claims(fresh, counted, 3) == [Backoff(1, "account")] * 3
    clock.advance(0.5)
    assert _claims(fresh, counted, 2) == [None, Backoff(2, "account")]  # the refusals did not double it


def test_the_longer_wait_and_its_scope_is_reported(fresh: Instance, clock: Clock) -> None:
    throttle = fresh.identity.sessions.throttle
    account, client = throttle.counters("victim", REMOTE)
    _claims(fresh, (client,), CLIENT_FREE + 1)  # the client owes 1 s
    for wait in (1, 2):
        clock.advance(wait)
        assert _claims(fresh, (client,), 1) == [None]  # ... then 2, then 4
    _claims(fresh, (account,), ACCOUNT_FREE + 1)  # the account owes 1 s
    assert _claims(fresh, (account, client), 1) == [Backoff(4, "client")]
    assert _claims(fresh, throttle.counters("someone", "10.0.0.7"), 1) == [None]


def test_release_clears_the_account_and_gives_the_client_its_attempt_back(fresh: Instance, clock: Clock) -> None:
    throttle = fresh.identity.sessions.throttle
    account, client = throttle.counters("victim", REMOTE)
    assert _claims(fresh, (account,), ACCOUNT_FREE + 1)[-1] is None  # the account owes 1 s
    assert _claims(fresh, (client,), CLIENT_FREE + 1)[-1] is None  # the client's 11th: it owes 1 s
    _release(fresh, (account, client))  # ... but that attempt was a success
    assert _claims(fresh, (account, client), 1) == [None]  # account cleared, the client back at 10 + 1
    assert _claims(fresh, (account, client), 1) == [Backoff(1, "client")]


def test_attempts_are_forgotten_a_quarter_hour_after_the_last(fresh: Instance, clock: Clock) -> None:
    counted = fresh.identity.sessions.throttle.counters("victim", "127.0.0.1")
    _claims(fresh, counted, ACCOUNT_FREE)
    clock.advance(FORGET_AFTER_S)
    assert _claims(fresh, counted, ACCOUNT_FREE + 1) == [None] * (ACCOUNT_FREE + 1)
    assert fresh.sql("SELECT count(*) FROM sign_in_counters") == [(1,)]


def test_counters_are_keyed_by_digest_not_by_email_or_address(fresh: Instance, clock: Clock) -> None:
    assert login_from(fresh, REMOTE, VICTIM, WRONG).status_code == 401
    keys = [key for (key,) in fresh.sql("SELECT key FROM sign_in_counters")]
    assert len(keys) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)


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
