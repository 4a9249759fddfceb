"""The Cache of server mode: Redis, shared by every instance, with generations kept in Redis too.

A tag's generation is a Redis counter, so a write through one instance (which bumps it after its commit)
makes every instance's cached answers under the old generation unreachable at once. Values are pickled and
signed with a key derived from the deployment's secret: whoever can write to Redis without that secret cannot
make an instance unpickle what they wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import secrets
from typing import Any

from backend.cache import CacheError, CacheStats
from backend.redis_connection import RedisConnection

MAC_BYTES = 32
TAG_KEPT_S = 24 * 3600  # a tag's set of keys, when its entries never expire


class RedisCache:
    """Keys to values in Redis, under outpost:cache:, grouped by tag for purge."""

    def __init__(self, redis: RedisConnection, signing_key: bytes) -> None:
        self.redis = redis
        self._signing_key = signing_key
        self._hits = 0
        self._misses = 0

    def _key(self, key: str) -> str:
        return self.redis.key("cache", key)

    def _tag_key(self, tag: str) -> str:
        return self.redis.key("cache-tag", tag)

    def _mac(self, key: str, payload: bytes) -> bytes:
        # The key is signed with the value: a signed answer copied under another key is not that key's answer.
        return hmac.new(self._signing_key, key.encode() + b"\0" + payload, hashlib.sha256).digest()

    def _seal(self, key: str, value: Any) -> bytes:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return self._mac(key, payload) + payload

    def _open(self, key: str, sealed: bytes) -> Any:
        mac, payload = sealed[:MAC_BYTES], sealed[MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(key, payload)):
            raise CacheError("a cached value's signature does not match: it was not written by this deployment")
        return pickle.loads(payload)  # signed: checked above

    def get(self, key: str, default: Any = None) -> Any:
        """The value under key, or default (counted as a hit or a miss); a forged value is a miss."""
        sealed = self.redis.sync.get(self._key(key))
        if sealed is None:
            self._misses += 1
            return default
        try:
            value = self._open(key, sealed)
        except CacheError:
            self._misses += 1
            self.redis.sync.delete(self._key(key))
            return default
        self._hits += 1
        return value

    def set(self, key: str, value: Any, expire_s: float | None = None, tag: str | None = None) -> None:
        """Store value under key, forgotten after expire_s seconds if given; tag groups it for purge."""
        pipe = self.redis.sync.pipeline(transaction=False)
        pipe.set(self._key(key), self._seal(key, value), px=int(expire_s * 1000) if expire_s else None)
        if tag is not None:
            pipe.sadd(self._tag_key(tag), key)
            # The set lives as long as its newest entry: without this, every write's new keys would pile up in it.
            pipe.expire(self._tag_key(tag), int(expire_s or TAG_KEPT_S) + 1)
        pipe.execute()

    def count_hit(self) -> None:
        """Count a hit answered from a caller's in-process copy."""
        self._hits += 1

    def delete(self, key: str) -> bool:
        """Forget key; whether it was there."""
        return bool(self.redis.sync.delete(self._key(key)))

    def generation(self, tag: str) -> str:
        """The tag's current generation, as every instance sees it."""
        value = self.redis.sync.get(self.redis.key("generation", tag))
        return value.decode() if value else "0"

    def bump(self, tag: str) -> None:
        """Move the tag to its next generation, for every instance."""
        self.redis.sync.incr(self.redis.key("generation", tag))

    def purge(self, tag: str | None = None) -> int:
        """Drop the tag's entries (all of Outpost's when None) and bump it; how many went."""
        client = self.redis.sync
        if tag is not None:
            self.bump(tag)
            members = [member.decode() for member in client.smembers(self._tag_key(tag))]
            dropped = client.delete(*(self._key(member) for member in members)) if members else 0
            client.delete(self._tag_key(tag))
            return int(dropped)
        dropped = 0
        for key in client.scan_iter(match=self.redis.key("cache:*"), count=1000):
            dropped += int(client.delete(key))
        for key in client.scan_iter(match=self.redis.key("cache-tag:*"), count=1000):
            client.delete(key)
        for generation in client.scan_iter(match=self.redis.key("generation", "*"), count=1000):
            client.incr(generation)
        return dropped

    def stats(self) -> CacheStats:
        """Entries and memory of Outpost's cache keys, and this instance's hits and misses."""
        client = self.redis.sync
        entries = sum(1 for _ in client.scan_iter(match=self.redis.key("cache:*"), count=1000))
        used = int(client.info("memory").get("used_memory", 0))
        return CacheStats(entries, used, self._hits, self._misses)

    def round_trip(self) -> None:
        """Write, read back and delete a random value; raises CacheError if Redis does not return it."""
        key = f"probe:{secrets.token_hex(8)}"
        value = secrets.token_hex(8)
        self.set(key, value, expire_s=60)
        try:
            got = self.get(key)
            if got != value:
                raise CacheError(f"wrote {value!r}, read back {got!r}")
        finally:
            self.delete(key)

    def close(self) -> None:
        """Nothing of its own: the connection is closed by its owner."""
