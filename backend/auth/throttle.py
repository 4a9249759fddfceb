"""Failed-login throttling per account and per client, with exponential backoff.

The account's backoff is capped at ACCOUNT_CAP_S: an attacker hammering someone's email can hold the
account back for at most that long at a time, never lock its owner out for good. The client's backoff
grows to CLIENT_CAP_S, so one remote client guessing across many accounts slows to a crawl.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from dataclasses import dataclass

from litestar.stores.base import Store

ACCOUNT_FREE = 5
ACCOUNT_CAP_S = 30
CLIENT_FREE = 10
CLIENT_CAP_S = 15 * 60
FORGET_AFTER_S = 15 * 60  # failures older than this no longer count


def is_loopback(address: str) -> bool:
    """Whether a client address is this machine."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address in ("localhost", "testclient")  # the last: Litestar's in-process test client


@dataclass(frozen=True)
class Backoff:
    """How long the caller must wait, and why."""

    retry_after_s: int
    scope: str  # "account" or "client"


class LoginThrottle:
    """Counts failed logins in a Litestar store (memory here, Redis in server mode)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _keys(email_key: str, client: str) -> tuple[tuple[str, int, int, str], ...]:
        # Every local program is 127.0.0.1: there the client's backoff is as short as an account's,
        # or any local process could keep the administrator's console out for a quarter of an hour.
        client_cap = ACCOUNT_CAP_S if is_loopback(client) else CLIENT_CAP_S
        return (
            (f"login:account:{email_key}", ACCOUNT_FREE, ACCOUNT_CAP_S, "account"),
            (f"login:client:{client}", CLIENT_FREE, client_cap, "client"),
        )

    async def _state(self, key: str) -> dict[str, float]:
        raw = await self.store.get(key)
        return json.loads(raw) if raw else {"failures": 0, "until": 0.0}

    async def check(self, email_key: str, client: str) -> Backoff | None:
        """The wait still owed before another attempt, or None when one may be made now."""
        now = time.time()
        waits = []
        for key, _free, _cap, scope in self._keys(email_key, client):
            until = (await self._state(key))["until"]
            if until > now:
                waits.append(Backoff(max(1, math.ceil(until - now)), scope))
        return max(waits, key=lambda b: b.retry_after_s) if waits else None

    async def failed(self, email_key: str, client: str) -> None:
        """Count a failed attempt; past the free ones, each failure doubles the wait."""
        now = time.time()
        for key, free, cap, _scope in self._keys(email_key, client):
            state = await self._state(key)
            failures = int(state["failures"]) + 1
            until = now + min(cap, 2 ** (failures - free - 1)) if failures > free else 0.0
            await self.store.set(key, json.dumps({"failures": failures, "until": until}), expires_in=FORGET_AFTER_S)

    async def succeeded(self, email_key: str, client: str) -> None:
        """A right password clears the account's count, not the client's: signing in to one's own account
        between guesses at others must not reset the client's backoff."""
        await self.store.delete(self._keys(email_key, client)[0][0])
