"""Request ids: accepted from X-Request-ID or generated, echoed, bound to every log line."""

from __future__ import annotations

import re
import secrets
import time
from contextvars import ContextVar
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.observability.access_log import ACCESS_LOG

HEADER = b"x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _request_id.get()


def add_request_id(_logger: object, _method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the id of the request being handled, on every line logged while it is."""
    request_id = _request_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            candidate = value.decode("latin-1")
            # A client's id is kept only if it is safe to echo and to log.
            if _VALID.match(candidate):
                return candidate
            break
    # Random, not a count: an id is echoed to the client, and a count would tell it how busy the server is.
    return secrets.token_hex(16)


class RequestContextMiddleware:
    """Outermost ASGI layer: the request id, its response header and one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        token = _request_id.set(request_id)  # log lines take it from here (see add_request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            ACCESS_LOG.add(
                scope["method"],
                scope["path"],
                status,
                round((time.perf_counter() - started) * 1000, 2),
                (scope.get("client") or ("?",))[0],
                request_id,
            )
            _request_id.reset(token)
