"""Record answers read through the cache: list pages (with counts) and expanded records, per collection generation.

A plain record by id does not come here: SQLite answers that point read as fast as the cache would
(see Database.rows_now). A list page runs a filtered, sorted query and maybe a count, and an expanded
record reads other collections too: that is the work worth keeping.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from backend.cache import Cache
from backend.records.shape import RecordShape

T = TypeVar("T")
HELD_IN_MEMORY = 256  # answers (a page is at most 1000 records)
EXPIRE_S = 600.0  # a bound on what an unread generation leaves behind; writes invalidate well before
_MISS = object()


class CachedAnswers:
    """Answers keyed by the generations of every collection they read, taken before the database is read.

    The latest answers are also held here in memory, as they are: a hit then costs no unpickling. Keys
    carry the generations, so a write makes these unreachable exactly as it does the cache's.
    """

    def __init__(self, cache: Cache | None, held: int = HELD_IN_MEMORY) -> None:
        self.cache = cache
        self._held: OrderedDict[str, Any] = OrderedDict()
        self._holds = held

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
        found = self._held.get(key, _MISS)
        if found is not _MISS:
            self._held.move_to_end(key)
            self.cache.count_hit()
            return found  # type: ignore[no-any-return]
        found = self.cache.get(key, _MISS)
        if found is _MISS:
            found = await compute()
            self.cache.set(key, found, expire_s=EXPIRE_S, tag=tag)
        self._hold(key, found)
        return found  # type: ignore[no-any-return]

    def _hold(self, key: str, answer: Any) -> None:
        self._held[key] = answer
        if len(self._held) > self._holds:
            self._held.popitem(last=False)

    def invalidate(self, collections: frozenset[str]) -> None:
        """After a commit that changed these collections: no answer read before it is served again."""
        # Keys read after this carry the new generations; what is held under the old ones ages out.
        if self.cache is not None:
            for name in collections:
                self.cache.bump(name)
