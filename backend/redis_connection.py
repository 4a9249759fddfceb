"""The one wrapper around redis-py: server mode's shared store, one URL, a key prefix, clients made lazily.

Every key Outpost keeps starts with KEY_PREFIX and the deployment's namespace (derived from its secret, which
every instance of a deployment shares), so deployments sharing one Redis never read each other's keys. The
synchronous client serves callers that cannot await (the cache's interface); the asyncio client, bound to
the server's event loop, serves the rest.
"""

from __future__ import annotations

import redis
import redis.asyncio

from backend.db.urls import shown_url

KEY_PREFIX = "outpost:"
TIMEOUT_S = 2.0  # a Redis slower than this is down, not busy: the caller says so rather than hang


class RedisConnection:
    """Clients of one Redis, made on first use."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.prefix = f"{KEY_PREFIX}{namespace}:"
        self._sync: redis.Redis | None = None
        self._async: redis.asyncio.Redis | None = None

    def key(self, *parts: str) -> str:
        """The deployment's key for parts: outpost:<namespace>:part:part…"""
        return self.prefix + ":".join(parts)

    @property
    def sync(self) -> redis.Redis:
        """The blocking client (for interfaces that cannot await)."""
        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        return self._sync

    @property
    def client(self) -> redis.asyncio.Redis:
        """The asyncio client, on the running loop."""
        if self._async is None:
            self._async = redis.asyncio.Redis.from_url(
                self.url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
            )
        return self._async

    def location(self) -> str:
        """Where it is, for people: the URL without its password."""
        return shown_url(self.url)

    async def version(self) -> str:
        """The server's version; raises (redis.RedisError, OSError) if it does not answer."""
        info = await self.client.info("server")
        return str(info.get("redis_version", "unknown"))

    async def close(self) -> None:
        """Close both clients."""
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        if self._sync is not None:
            self._sync.close()
            self._sync = None
