"""Record answers read through the cache: list pages (with counts) and expanded records, per collection generation.

A plain record by id does not come here: SQLite answers that point read as fast as the cache would
(see Database.rows_now). A list page runs a filtered, sorted query and maybe a count, and an expanded
record reads other collections too: that is the work worth keeping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from backend.cache import Cache
from backend.records.shape import RecordShape

T = TypeVar("T")
EXPIRE_S = 600.0  # a bound on what an unread generation leaves behind; writes invalidate well before
_MISS = object()


class CachedAnswers:
    """Answers keyed by the generations of every collection they read, taken before the database is read."""

    def __init__(self, cache: Cache | None) -> None:
        self.cache = cache

    def key(self, kind: str, shapes: Iterable[RecordShape], *parts: Any) -> str | None:
        """The key of one answer: its kind, the schema version and generation of each collection it reads, and parts.

        Take it before reading the database: a write that commits after this moves a generation in it.
        """
        if self.cache is None:
            return None
        reads = [(shape.definition.name, *shape.key, self.cache.generation(shape.definition.name)) for shape in shapes]
        digest = hashlib.blake2b(repr((reads, parts)).encode(), digest_size=20).hexdigest()
        return f"records:{kind}:{digest}"

    async def read_through(self, key: str | None, tag: str, compute: Callable[[], Awaitable[T]]) -> T:
        """The answer stored under key, else compute's, stored under key and tag (no cache: compute's)."""
        if self.cache is None or key is None:
            return await compute()
        found = self.cache.get(key, _MISS)
        if found is not _MISS:
            return found  # type: ignore[no-any-return]
        answer = await compute()
        self.cache.set(key, answer, expire_s=EXPIRE_S, tag=tag)
        return answer

    def invalidate(self, collections: frozenset[str]) -> None:
        """After a commit that changed these collections: no answer read before it is served again."""
        if self.cache is not None:
            for name in collections:
                self.cache.bump(name)
