"""Server mode's shared store, as the app uses it: Redis behind the cache, the rate limit and news of changes.

Loaded only when a Redis URL is set, so the field node's executable carries no Redis client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from backend.auth.tokens import derive_key
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.cache_redis import RedisCache
    from backend.rate_limit import RedisWindowCounter
    from backend.redis_connection import RedisConnection


class HeldInMemory(Protocol):
    """What an instance holds in memory of data others change: told of its own changes, reloaded on others'."""

    on_change: object

    async def reload(self) -> None:
        """Read what is held again from the database."""
        ...


class SharedStore:
    """The parts of one Redis the app uses."""

    def __init__(self, redis: RedisConnection) -> None:
        self.redis = redis

    def cache(self, signing_key: bytes) -> RedisCache:
        """The cache every instance shares."""
        from backend.cache_redis import RedisCache

        return RedisCache(self.redis, signing_key)

    def window_counter(self) -> RedisWindowCounter:
        """The rate limit's windows, counted once across every instance."""
        from backend.rate_limit import RedisWindowCounter

        return RedisWindowCounter(self.redis)

    async def share_changes(self, kind: str, held: HeldInMemory) -> None:
        """Announce held's changes to every instance and apply theirs to it, until cancelled."""
        from backend.shared_changes import SharedChanges

        changes = SharedChanges(self.redis, kind, held.reload)
        held.on_change = changes.announce
        await changes.watch()

    def tell_others(self, kind: str, held: HeldInMemory) -> None:
        """Announce held's changes to every instance, without watching for theirs (a CLI command's process)."""
        from backend.shared_changes import SharedChanges

        held.on_change = SharedChanges(self.redis, kind, held.reload).announce

    async def close(self) -> None:
        """Close the connections."""
        await self.redis.close()


def deployment_namespace(secret: bytes) -> str:
    """The deployment's own part of every shared key: the same on every instance (they share the secret)."""
    return derive_key(secret, "redis-namespace")[:6].hex()


def open_shared_store(settings: Settings, namespace: str) -> SharedStore | None:
    """The shared store settings name, or None (embedded: everything is in this process and its data dir).

    namespace: the deployment's own part of every key (see redis_connection.py).
    """
    if not settings.redis_url:
        return None
    from backend.redis_connection import RedisConnection

    return SharedStore(RedisConnection(settings.redis_url, namespace))
