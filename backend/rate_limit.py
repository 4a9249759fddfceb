"""The per-principal API rate limit (Litestar's RateLimitMiddleware) and its 429 reply."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from backend.auth.permissions import Principal
from backend.errors import problem_response

# Probes and the API's own description stay reachable whatever a client has spent.
UNLIMITED_PATHS = ["^/health", "^/ready", "^/schema"]


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
