"""The per-principal API rate limit (Litestar's RateLimitMiddleware, counting per window) and its 429 reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from time import time
from typing import TYPE_CHECKING, Any, Protocol, cast

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.auth.permissions import Principal
from backend.errors import problem_response

if TYPE_CHECKING:
    from backend.redis_connection import RedisConnection

# Probes and the API's own description stay reachable whatever a client has spent.
UNLIMITED_PATHS = ["^/health", "^/ready", "^/schema"]
MAX_KEYS = 10_000  # windows held before the ended ones are dropped


@dataclass(slots=True)
class Window:
    """Requests counted in the current fixed window, and when it ends (Unix seconds)."""

    count: int
    reset: int


class WindowCounter(Protocol):
    """Counts requests per key in fixed windows; where several instances serve, the count must be shared."""

    async def hit(self, key: str, window_s: int) -> Window:
        """Count one request for key; the window as it stands after it."""
        ...


class MemoryWindowCounter:
    """Windows in this process's memory: the count for one embedded backend (server mode counts in Redis)."""

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}

    async def hit(self, key: str, window_s: int) -> Window:
        """Count one request for key; no await before the count is taken, so no other request interleaves."""
        now = int(time())
        window = self._windows.get(key)
        if window is None or window.reset <= now:
            if len(self._windows) >= MAX_KEYS:
                self._windows = {k: w for k, w in self._windows.items() if w.reset > now}
            window = self._windows[key] = Window(0, now + window_s)
        window.count += 1
        return Window(window.count, window.reset)


class RedisWindowCounter:
    """Windows in Redis (server mode): every instance of a deployment counts into the same window, once."""

    def __init__(self, redis: RedisConnection) -> None:
        self.redis = redis

    async def hit(self, key: str, window_s: int) -> Window:
        """Count one request for key in the window now falls in (windows start at multiples of window_s)."""
        now = int(time())
        start = now - now % window_s
        name = self.redis.key("rate", key, str(start))
        pipe = self.redis.client.pipeline(transaction=True)  # INCR and EXPIRE together: no counter lives forever
        pipe.incr(name)
        pipe.expire(name, window_s + 1)
        count, _ = await pipe.execute()
        return Window(int(count), start + window_s)


@dataclass
class CountingRateLimitConfig(RateLimitConfig):
    """Litestar's rate limit settings, with the one counter every route's middleware shares."""

    counter: WindowCounter = field(default_factory=MemoryWindowCounter)


class WindowRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's limiter counting in fixed windows through a WindowCounter.

    Litestar's own keeps the time of every request in the window as a JSON list in a Store, decoded and
    re-encoded on each request under three locks: at 6000 a minute, thousands of numbers per request.
    """

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self._fixed_raw = _raw(self._fixed_headers())  # the headers that never change, encoded once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against its principal's window; 429 once the window is over its limit."""
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope)
        counter = cast(CountingRateLimitConfig, self.config).counter
        window = await counter.hit(self.cache_key_from_request(request), DURATION_VALUES[self.unit])
        if window.count > self.max_requests:
            raise TooManyRequestsException(headers=self._headers(window))
        raw = [*self._fixed_raw, *_raw(self._varying_headers(window))]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended, not set: no reply of ours carries RateLimit-* headers of its own.
                message["headers"] = [*message.get("headers", ()), *raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, window: Window) -> dict[str, str]:
        return {**self._fixed_headers(), **self._varying_headers(window)}

    def _fixed_headers(self) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={DURATION_VALUES[self.unit]}",
            config.rate_limit_limit_header_key: str(self.max_requests),
        }

    def _varying_headers(self, window: Window) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_remaining_header_key: str(max(0, self.max_requests - window.count)),
            config.rate_limit_reset_header_key: str(max(0, window.reset - int(time()))),
        }


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Whom the API rate limit counts: the user or API key (every local client is 127.0.0.1), else the address."""
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        return f"{principal.kind}:{principal.id}"
    return f"address:{get_remote_address(request)}"


def rate_limit_config(per_minute: int, counter: WindowCounter | None = None) -> RateLimitConfig:
    """per_minute requests a minute for each principal, counted by counter (default: in this process)."""
    return CountingRateLimitConfig(
        counter=counter or MemoryWindowCounter(),
        rate_limit=("minute", per_minute),
        identifier_for_request=rate_limit_identity,
        exclude=UNLIMITED_PATHS,
        middleware_class=WindowRateLimitMiddleware,
    )


def handle_rate_limited(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[dict[str, Any]]:
    """The limiter's 429 as problem+json, with Retry-After beside its RateLimit-* headers."""
    headers = dict(exc.headers or {})
    # RateLimit-Reset is the draft standard's name for when the window opens again; clients know Retry-After.
    reset = next((value for name, value in headers.items() if name.lower() == "ratelimit-reset"), "")
    wait_s = max(1, int(reset)) if reset.lstrip("-").isdigit() else 60
    headers["Retry-After"] = str(wait_s)
    return problem_response(
        request,
        status=429,
        detail=f"Too many requests; try again in {wait_s} s.",
        headers=headers,
    )
