"""ForwardedClient: which client a request names, by whether its peer is a trusted proxy and what it forwards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.forwarded import UNKNOWN_CLIENT, ForwardedClient, behind_proxies
from backend.settings import SettingError, load_settings


def _client_seen(trusted: list[str], peer: str, forwarded: str | None) -> Any:
    """The client the app behind the trusted proxies sees for a request from peer forwarding that header."""
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["client"] = scope["client"]

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "client": (peer, 50000), "headers": headers, "scheme": "http"}
    asyncio.run(behind_proxies(app, trusted)(scope, None, None))
    return seen["client"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.5", "203.0.113.9", ("203.0.113.9", 0)),  # a trusted proxy names the client
        ("10.0.0.5", "203.0.113.9, 10.0.0.7", ("203.0.113.9", 0)),  # through two of them
        ("10.0.0.5", None, UNKNOWN_CLIENT),  # a proxy's own request: no client, never loopback
        ("127.0.0.1", "203.0.113.9", ("127.0.0.1", 50000)),  # not a trusted proxy: its header means nothing
    ],
)
def test_the_client_is_the_one_a_trusted_proxy_names(peer: str, forwarded: str | None, client: Any) -> None:
    assert _client_seen(["10.0.0.0/24"], peer, forwarded) == client


def test_without_trusted_proxies_the_app_is_served_as_it_is() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None: ...

    assert behind_proxies(app, []) is app
    assert isinstance(behind_proxies(app, ["127.0.0.1"]), ForwardedClient)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    settings = load_settings({"trusted_proxies": "127.0.0.1, 10.0.0.0/8,::1"}, {})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    with pytest.raises(SettingError, match="not an IP address"):
        load_settings({}, {"OUTPOST_TRUSTED_PROXIES": "proxy.example.org"})
