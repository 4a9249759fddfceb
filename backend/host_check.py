"""DNS-rebinding defence: only Host headers naming this server are served."""

from __future__ import annotations

import json
from collections.abc import Iterable

from litestar.types import ASGIApp, Receive, Scope, Send

from backend.errors import PROBLEM_JSON, TYPE_PREFIX
from backend.observability.request_id import current_request_id

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_without_port(host: str) -> str:
    """'[::1]:8765' -> '::1', 'example.lan:80' -> 'example.lan'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class HostCheckMiddleware:
    """Answer 400 to a Host that is not the bound address, localhost or an allowed host."""

    def __init__(self, app: ASGIApp, *, bound_host: str, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        names = {*LOOPBACK_NAMES, bound_host.lower(), *(h.lower() for h in allowed_hosts)}
        self.allow_any = "*" in names
        self.exact = {n for n in names if not n.startswith("*.")}
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def allows(self, host: str) -> bool:
        """Whether this Host header value is ours."""
        if self.allow_any:
            return True
        name = host_without_port(host)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "type": TYPE_PREFIX + "host-not-allowed",
                "title": "Bad Request",
                "status": 400,
                "detail": "This server does not answer to that Host header. "
                "An administrator can add the name with --allowed-hosts.",
                "instance": scope.get("path"),
                "request_id": current_request_id(),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
