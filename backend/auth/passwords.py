"""The one Argon2 wrapper: Argon2id hashes, verification and rehash checks."""

from __future__ import annotations

import os

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's first Argon2id configuration (m=19 MiB, t=2, p=1): about 20-30 ms per hash here, so two cores
# can serve more logins a second than PocketBase's ~30/s while staying at the recommended minimum.
# argon2-cffi's RFC default (m=64 MiB, t=3, p=4) costs 3-4x more per login for a field node.
TIME_COST = 2
MEMORY_COST_KIB = 19456
PARALLELISM = 1


class PasswordHasher:
    """Hashes and verifies passwords with Argon2id at this program's parameters.

    The *_off_loop methods run in worker threads (argon2-cffi releases the GIL), at most one per core:
    more would only queue 19 MiB buffers, and the event loop keeps answering meanwhile.
    """

    def __init__(
        self, *, time_cost: int = TIME_COST, memory_cost_kib: int = MEMORY_COST_KIB, parallelism: int = PARALLELISM
    ) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID
        )
        self._limiter: anyio.CapacityLimiter | None = None
        self._dummy_hash: str | None = None

    def _threads(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made on first use: a limiter belongs to the running event loop
            self._limiter = anyio.CapacityLimiter(os.cpu_count() or 1)
        return self._limiter

    async def hash_off_loop(self, password: str) -> str:
        """hash(), in a worker thread."""
        return await anyio.to_thread.run_sync(self.hash, password, limiter=self._threads())

    async def prepare(self) -> None:
        """Make the dummy hash now, so that even the first unknown email costs exactly one verify."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash_off_loop("outpost-dummy-password")

    async def verify_off_loop(self, stored_hash: str | None, password: str) -> bool:
        """verify(), in a worker thread; with no stored hash, verifies against a dummy one and returns False.

        So an unknown email costs what a wrong password costs, and timing tells an attacker nothing.
        """
        if stored_hash is None:
            await self.prepare()
            await anyio.to_thread.run_sync(self.verify, self._dummy_hash, password, limiter=self._threads())
            return False
        return await anyio.to_thread.run_sync(self.verify, stored_hash, password, limiter=self._threads())

    def hash(self, password: str) -> str:
        """A new salted Argon2id hash of password (PHC string, `$argon2id$…`)."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether password matches stored_hash; a malformed hash never matches."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether stored_hash was made with other parameters than ours."""
        return self._hasher.check_needs_rehash(stored_hash)
