"""HEAD wherever GET is served (RFC 9110 §9.3.2): the GET reply's status and headers, without its body."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def with_head(allow: str) -> str:
    """An Allow list with HEAD added wherever GET is in it."""
    methods = [method.strip() for method in allow.split(",") if method.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return ", ".join(sorted(methods))


class HeadAsGetMiddleware:
    """An edge layer: a HEAD request is routed as GET and its body dropped; 405 Allow lists gain HEAD.

    Litestar routes HEAD only to handlers declared for it, so without this every GET route
    answered HEAD with 405. Routing it as GET keeps the headers (Content-Length, ETag, auth
    challenges) exactly those of GET, as the RFC asks.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"

        async def send_reply(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = MutableScopeHeaders(message)
                if allow := headers.get("allow"):
                    headers["allow"] = with_head(allow)
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body's chunks go nowhere; its end closes the reply
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"} if head else scope, receive, send_reply)  # type: ignore[arg-type]
