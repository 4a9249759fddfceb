"""The one Argon2 wrapper: Argon2id hashes, verification and rehash checks."""

from __future__ import annotations

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
    """Hashes and verifies passwords with Argon2id at this program's parameters."""

    def __init__(
        self, *, time_cost: int = TIME_COST, memory_cost_kib: int = MEMORY_COST_KIB, parallelism: int = PARALLELISM
    ) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID
        )

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
