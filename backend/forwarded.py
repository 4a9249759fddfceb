"""Behind a reverse proxy, the client is the one its X-Forwarded-For names, never the proxy (nor loopback).

Uvicorn's ProxyHeadersMiddleware does the reading: a request from a trusted proxy gets the client address
its X-Forwarded-For names (the nearest address the proxies did not add). What it leaves alone is a trusted
proxy's request without that header: its client would be the proxy, which on the same machine is loopback,
and loopback is trusted here (the first administrator is created from it). Such a request comes from no
known client. Without trusted proxies, nothing is read: the client is the socket's peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

UNKNOWN_CLIENT = ("unknown", 0)  # neither loopback nor any address: trusted for nothing

Scope = dict[str, Any]
App = Any  # an ASGI application


class ForwardedClient:
    """An ASGI app whose requests name their client as the trusted proxies in front of it say."""

    def __init__(self, app: App, trusted_proxies: Sequence[str]) -> None:
        self.networks = [ipaddress.ip_network(network) for network in trusted_proxies]
        self.app = ProxyHeadersMiddleware(app, trusted_hosts=list(trusted_proxies))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self._from_proxy(scope) and not _forwarded(scope):
            scope = {**scope, "client": UNKNOWN_CLIENT}
        await self.app(scope, receive, send)

    def _from_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def _forwarded(scope: Scope) -> bool:
    return any(name == b"x-forwarded-for" for name, _ in scope["headers"])


def behind_proxies(app: App, trusted_proxies: Sequence[str]) -> App:
    """app as served: reading X-Forwarded-For from the trusted proxies, or unchanged when there are none."""
    return ForwardedClient(app, trusted_proxies) if trusted_proxies else app
