"""Sign-in throttling per account, per remote client and per device token, with exponential backoff.

Every attempt is counted BEFORE its password is checked, by an atomic upsert on the writer, so a burst
of parallel guesses gets the free attempts checked and the rest refused, not every one checked.

Device tokens (OWASP "device cookies"): a client that signed in to an account holds a signed token
bound to it; its attempts count against that token alone, so an attacker hammering the account (or
every account from this machine) cannot keep its owner out. Attempts without one count against the
account, whose backoff grows to ACCOUNT_CAP_S, and, from another machine, against the client,
whose backoff grows to CLIENT_CAP_S. Every local program is 127.0.0.1, so loopback has no client
counter: it would lock the whole machine out, which is what the device tokens are there to prevent.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from backend.auth.models import SignInCounter
from backend.db.upserts import insert_on_conflict

ACCOUNT_FREE = 5
# Clients without a device token are who an online guesser is, so an account holds them back as long as a
# remote client (~4 checked guesses an hour at the cap, not 120); the owner's own device token is unaffected.
ACCOUNT_CAP_S = 15 * 60
DEVICE_FREE = 5
DEVICE_CAP_S = 30
CLIENT_FREE = 10
CLIENT_CAP_S = 15 * 60
FORGET_AFTER_S = 15 * 60  # attempts no longer count this long after the last one (or the wait it earned) ends
MAX_DOUBLINGS = 30  # past this the cap has long been reached; keeps 2**n small


def is_loopback(address: str) -> bool:
    """Whether a client address is this machine."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address in ("localhost", "testclient")  # the last: Litestar's in-process test client


@dataclass(frozen=True)
class Limit:
    """How many attempts are free in a scope, and the longest wait past them."""

    scope: str  # "account", "client" or "device"
    free: int
    cap_s: int


ACCOUNT = Limit("account", ACCOUNT_FREE, ACCOUNT_CAP_S)
CLIENT = Limit("client", CLIENT_FREE, CLIENT_CAP_S)
DEVICE = Limit("device", DEVICE_FREE, DEVICE_CAP_S)


@dataclass(frozen=True)
class Backoff:
    """How long the caller must wait, and why."""

    retry_after_s: int
    scope: str  # "account", "client" or "device"


@dataclass(frozen=True)
class Counted:
    """One counter an attempt is counted against: its row key (a keyed digest) and its limit."""

    key: str
    limit: Limit


def backoff_after(attempts: int, limit: Limit) -> float:
    """Seconds to hold back after this many attempts: none while free, then doubling to the cap."""
    if attempts <= limit.free:
        return 0.0
    return float(min(limit.cap_s, 2 ** min(attempts - limit.free - 1, MAX_DOUBLINGS)))


class LoginThrottle:
    """Counts sign-in attempts in the sign_in_counters table, through the caller's write transaction."""

    def __init__(self, key: bytes) -> None:
        self.key = key  # keys rows by digest: no email, address or token is stored in the clear

    def _digest(self, scope: str, name: str) -> str:
        return hmac.new(self.key, f"{scope}:{name}".encode(), hashlib.sha256).hexdigest()

    def counters(self, account: str, client: str, device_id: str | None = None) -> tuple[Counted, ...]:
        """What an attempt counts against: its device token alone, or the account (and a remote client)."""
        if device_id is not None:
            return (Counted(self._digest("device", device_id), DEVICE),)
        counted = [Counted(self._digest("account", account), ACCOUNT)]
        if not is_loopback(client):
            counted.append(Counted(self._digest("client", client), CLIENT))
        return tuple(counted)

    def claim(self, session: Session, counted: Sequence[Counted]) -> Backoff | None:
        """Count an attempt against every counter, or refuse it uncounted: the wait still owed.

        Synchronous, for Database.write_in_thread: the whole claim is one trip to the writer.
        """
        now = time.time()
        session.execute(delete(SignInCounter).where(SignInCounter.expires_at <= now))
        limits = {item.key: item.limit for item in counted}
        # FOR UPDATE (PostgreSQL; SQLite's writer is already exclusive) holds the rows until COMMIT, every one of
        # them, blocked or not: an attempt racing the one that starts a wait then reads that wait once it is
        # committed. Locking only rows already blocked let it through, checked (a filter on blocked_until is
        # judged on the snapshot, before the wait is there). In key order, so two claims never deadlock.
        held = (
            select(SignInCounter.key, SignInCounter.blocked_until)
            .where(SignInCounter.key.in_(limits))
            .order_by(SignInCounter.key)
            .with_for_update()
        )
        waits = [
            Backoff(max(1, math.ceil(until - now)), limits[key].scope)
            for key, until in session.execute(held).all()
            if until > now
        ]
        if waits:
            return max(waits, key=lambda backoff: backoff.retry_after_s)
        for item in counted:
            upsert = (
                insert_on_conflict(SignInCounter, session.get_bind().dialect)
                .values(key=item.key, attempts=1, blocked_until=0.0, expires_at=now + FORGET_AFTER_S)
                .on_conflict_do_update(
                    index_elements=[SignInCounter.key],
                    set_={"attempts": SignInCounter.attempts + 1, "expires_at": now + FORGET_AFTER_S},
                )
                .returning(SignInCounter.attempts)
            )
            attempts = session.execute(upsert).scalar_one()
            if wait := backoff_after(attempts, item.limit):
                # Forgotten FORGET_AFTER_S after the wait ends, not after the attempt: a wait as long as the
                # forgetting window would otherwise hand a guesser its free attempts back at every cap.
                session.execute(
                    update(SignInCounter)
                    .where(SignInCounter.key == item.key)
                    .values(blocked_until=now + wait, expires_at=now + wait + FORGET_AFTER_S)
                )
        return None

    def release(self, session: Session, counted: Sequence[Counted]) -> None:
        """A right password: the account's or device's count starts again; the client's attempt is given back.

        The client keeps its other attempts: signing in to one's own account between guesses at others
        must not reset a remote guesser's backoff.
        """
        for item in counted:
            if item.limit is CLIENT:
                remaining = SignInCounter.attempts - 1
                session.execute(
                    update(SignInCounter)
                    .where(SignInCounter.key == item.key, SignInCounter.attempts > 0)
                    .values(
                        attempts=remaining,
                        blocked_until=case((remaining <= item.limit.free, 0.0), else_=SignInCounter.blocked_until),
                    )
                )
            else:
                session.execute(delete(SignInCounter).where(SignInCounter.key == item.key))
