"""Server mode: a change one instance makes to what others hold in memory reaches them within a second.

Users, roles, keys and sign-outs (the principal directory), and collection definitions (the catalog), are
held in each instance's memory. After a change commits, the instance that made it moves a counter in Redis
(before it replies); every instance reads the counter every POLL_S and, when it moved, reads what it holds
again from the database, where the change is stored. A counter rather than pub/sub: a message missed while
Redis was away would be lost, a counter that moved meanwhile still differs when Redis is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis
import structlog

from backend.redis_connection import RedisConnection

POLL_S = 0.25  # well inside the second within which a revoked key must be refused everywhere
log = structlog.get_logger("outpost.shared")


class SharedChanges:
    """One counter of changes of one kind: moved by this instance's changes, watched for the others'."""

    def __init__(self, redis_connection: RedisConnection, kind: str, reload: Callable[[], Awaitable[None]]) -> None:
        self.redis = redis_connection
        self.kind = kind
        self.reload = reload  # reads what this instance holds of that kind again
        self.counter = redis_connection.key("changes", kind)
        self._seen: bytes | None = None

    def announce(self) -> None:
        """Tell every instance that something of this kind changed (this one has already applied it)."""
        try:
            counted = int(self.redis.sync.incr(self.counter))
        except (redis.RedisError, OSError):
            # The change is in the database; the others apply it once Redis answers and the counter is seen to
            # move, or at their next start. Until then they may act on what they hold: say so.
            log.error("could not tell the other instances of a change: Redis did not answer", kind=self.kind)
            return
        # Ours alone since the watch last looked: nothing to read again. Another's in between: the watch reads.
        if self._seen is not None and int(self._seen) + 1 == counted:
            self._seen = str(counted).encode()

    async def watch(self) -> None:
        """Forever: apply the other instances' changes within POLL_S of their announcement."""
        while True:
            try:
                value = await self.redis.client.get(self.counter)
                if value != self._seen:
                    if self._seen is not None or value is not None:
                        await self.reload()
                    self._seen = value
            except (redis.RedisError, OSError):
                log.warning("Redis did not answer; other instances' changes wait for it", kind=self.kind)
            except Exception:  # a database hiccup while reading again: try at the next poll, never stop watching
                log.exception("could not apply another instance's change", kind=self.kind)
            await asyncio.sleep(POLL_S)
