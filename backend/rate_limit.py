"""The per-principal API rate limit (Litestar's RateLimitMiddleware, counting per window) and its 429 reply."""

from __future__ import annotations

from dataclasses import dataclass
from time import time
from typing import Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.stores.base import Store
from litestar.types import Message, Receive, Scope, Send

from backend.auth.permissions import Principal
from backend.errors import problem_response

# Probes and the API's own description stay reachable whatever a client has spent.
UNLIMITED_PATHS = ["^/health", "^/ready", "^/schema"]


@dataclass(slots=True)
class Window:
    """Requests counted in the current fixed window, and when it ends (Unix seconds)."""

    count: int
    reset: int

    def encode(self) -> bytes:
        """The stored form: "reset:count"."""
        return f"{self.reset}:{self.count}".encode()

    @classmethod
    def decode(cls, stored: bytes | None, now: int, length_s: int) -> Window:
        """The window held in stored, or a fresh one when it is absent, unreadable or over."""
        reset, _, count = (stored or b"").partition(b":")
        if reset.isdigit() and count.isdigit() and int(reset) > now:
            return cls(int(count), int(reset))
        return cls(0, now + length_s)


class WindowRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's limiter keeping one counter per principal and window.

    Litestar's own keeps the time of every request in the window as a JSON list, decoded and re-encoded on
    each request: at 6000 a minute that is thousands of numbers per request, and the cost grew with use.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against its principal's window; 429 once the window is full."""
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        key = self.cache_key_from_request(request)
        async with self._lock:  # a read and a write of the store: no other request between them
            window = await self._window(key, store)
            if window.count >= self.max_requests:
                raise TooManyRequestsException(headers=self._headers(window))
            window.count += 1
            await store.set(key, window.encode(), expires_in=max(1, window.reset - int(time())))
        headers = self._headers(window)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                scope_headers = MutableScopeHeaders(message)
                for name, value in headers.items():
                    scope_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _window(self, key: str, store: Store) -> Window:
        return Window.decode(await store.get(key), int(time()), DURATION_VALUES[self.unit])

    def _headers(self, window: Window) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={DURATION_VALUES[self.unit]}",
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(max(0, self.max_requests - window.count)),
            config.rate_limit_reset_header_key: str(max(0, window.reset - int(time()))),
        }


def rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Whom the API rate limit counts: the user or API key (every local client is 127.0.0.1), else the address."""
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        return f"{principal.kind}:{principal.id}"
    return f"address:{get_remote_address(request)}"


def rate_limit_config(per_minute: int) -> RateLimitConfig:
    """per_minute requests a minute for each principal; its counters live in the app's "rate_limit" store."""
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        identifier_for_request=rate_limit_identity,
        exclude=UNLIMITED_PATHS,
        store="rate_limit",
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
