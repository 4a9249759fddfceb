"""The one cache wrapper: the `Cache` seam, diskcache in the data dir behind it (Redis in server mode, later).

Cached answers are keyed by a generation per tag (a collection's name, say). A writer bumps its tag's
generation after its transaction commits and before it replies, and a reader takes the generation
before it reads the database, so an answer read before a write is stored under the old generation and
no reader after the 2xx can see it. The generation starts from a fresh epoch in every process, so what
an earlier run left in the cache is never served.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import diskcache

# diskcache keeps its index in SQLite; an answer slower than this is a sign of trouble, not a wait to sit out.
TIMEOUT_S = 2.0
SIZE_LIMIT_BYTES = 256 * 1024**2  # diskcache culls the least recently stored entries past this


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds and how well it answers (hits and misses since this process started)."""

    entries: int
    size_bytes: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float | None:
        """Hits per lookup, or None before any lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


class Cache(Protocol):
    """Keys to values with optional expiry and a tag, shared by every process of one deployment."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value under key, or default (counted as a hit or a miss)."""
        ...

    def set(self, key: str, value: Any, expire_s: float | None = None, tag: str | None = None) -> None:
        """Store value under key, forgotten after expire_s seconds if given; tag groups it for purge."""
        ...

    def count_hit(self) -> None:
        """Count a hit answered from a caller's in-process copy of a value got here, so stats show every hit."""
        ...

    def delete(self, key: str) -> bool:
        """Forget key; whether it was there."""
        ...

    def generation(self, tag: str) -> str:
        """The tag's current generation, to put in keys of answers derived from its data."""
        ...

    def bump(self, tag: str) -> None:
        """Make every answer keyed with the tag's current generation unreachable (after a write commits)."""
        ...

    def purge(self, tag: str | None = None) -> int:
        """Drop the tag's entries (every entry when tag is None); how many went."""
        ...

    def stats(self) -> CacheStats:
        """Entries, size, hits and misses."""
        ...

    def round_trip(self) -> None:
        """Write, read back and delete a random value; raises CacheError if the cache does not return it."""
        ...

    def close(self) -> None:
        """Release the cache's resources."""
        ...


class Generations:
    """Per-tag generation counters of this process, under an epoch no earlier process used."""

    def __init__(self) -> None:
        self._epoch = secrets.token_hex(4)
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def current(self, tag: str) -> str:
        """The tag's generation as key text."""
        return f"{self._epoch}.{self._counters.get(tag, 0)}"

    def bump(self, tag: str) -> None:
        """Move the tag to its next generation."""
        with self._lock:
            self._counters[tag] = self._counters.get(tag, 0) + 1


class DiskCache:
    """The Cache of an embedded backend: diskcache in the data dir."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._store = diskcache.Cache(str(directory), timeout=TIMEOUT_S, size_limit=SIZE_LIMIT_BYTES)
        self._store.create_tag_index()  # purge by tag without a scan
        self._generations = Generations()
        self._hits = 0
        self._misses = 0

    def get(self, key: str, default: Any = None) -> Any:
        """The value under key, or default (counted as a hit or a miss)."""
        value = self._store.get(key, _MISSING)
        if value is _MISSING:
            self._misses += 1
            return default
        self._hits += 1
        return value

    def set(self, key: str, value: Any, expire_s: float | None = None, tag: str | None = None) -> None:
        """Store value under key, forgotten after expire_s seconds if given; tag groups it for purge."""
        self._store.set(key, value, expire=expire_s, tag=tag)

    def count_hit(self) -> None:
        """Count a hit answered from a caller's in-process copy."""
        self._hits += 1

    def delete(self, key: str) -> bool:
        """Forget key; whether it was there."""
        return bool(self._store.delete(key))

    def generation(self, tag: str) -> str:
        """The tag's current generation."""
        return self._generations.current(tag)

    def bump(self, tag: str) -> None:
        """Move the tag to its next generation."""
        self._generations.bump(tag)

    def purge(self, tag: str | None = None) -> int:
        """Drop the tag's entries (all when None) and bump it, so nothing read before is served after."""
        if tag is None:
            dropped = int(self._store.clear())
            self._generations = Generations()
            return dropped
        self._generations.bump(tag)
        return int(self._store.evict(tag))

    def stats(self) -> CacheStats:
        """Entries, bytes on disk, and this process's hits and misses."""
        return CacheStats(len(self._store), int(self._store.volume()), self._hits, self._misses)

    def round_trip(self) -> None:
        """Write, read back and delete a random value; raises if the cache does not return it."""
        key = f"outpost:probe:{secrets.token_hex(8)}"
        value = secrets.token_hex(8)
        self.set(key, value, expire_s=60)
        try:
            got = self._store.get(key)
            if got != value:
                raise CacheError(f"wrote {value!r}, read back {got!r}")
        finally:
            self.delete(key)

    def close(self) -> None:
        """Release the cache's files."""
        self._store.close()


_MISSING = object()


class CacheError(RuntimeError):
    """The cache does not behave as a cache."""
