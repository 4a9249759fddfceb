"""The one cache wrapper: diskcache in the data dir (Redis in server mode, later)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import diskcache

# diskcache keeps its index in SQLite; an answer slower than this is a sign of trouble, not a wait to sit out.
TIMEOUT_S = 2.0


class Cache:
    """Keys to values with optional expiry, shared by every process on the data dir."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._store = diskcache.Cache(str(directory), timeout=TIMEOUT_S)

    def get(self, key: str, default: Any = None) -> Any:
        """The value under key, or default."""
        return self._store.get(key, default)

    def set(self, key: str, value: Any, expire_s: float | None = None) -> None:
        """Store value under key, forgotten after expire_s seconds if given."""
        self._store.set(key, value, expire=expire_s)

    def delete(self, key: str) -> bool:
        """Forget key; whether it was there."""
        return bool(self._store.delete(key))

    def round_trip(self) -> None:
        """Write, read back and delete a random value; raises if the cache does not return it."""
        key = f"outpost:probe:{secrets.token_hex(8)}"
        value = secrets.token_hex(8)
        self.set(key, value, expire_s=60)
        try:
            got = self.get(key)
            if got != value:
                raise CacheError(f"wrote {value!r}, read back {got!r}")
        finally:
            self.delete(key)

    def close(self) -> None:
        """Release the cache's files."""
        self._store.close()


class CacheError(RuntimeError):
    """The cache does not behave as a cache."""
