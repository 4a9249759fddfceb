"""Host header check (DNS rebinding): only our own names are served, on every path."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.host_check import HostCheckMiddleware, host_without_port


async def _app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("never reached in these tests")


@pytest.mark.parametrize(
    ("header", "name"),
    [("localhost:8765", "localhost"), ("[::1]:80", "::1"), ("127.0.0.1", "127.0.0.1"), ("Box.LAN", "box.lan")],
)
def test_host_without_port(header: str, name: str) -> None:
    assert host_without_port(header) == name


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost:1", True),
        ("127.0.0.1:8765", True),
        ("[::1]:8765", True),
        ("10.0.0.5:8765", True),  # the bound address
        ("field.lan", True),
        ("a.depot.lan", True),
        ("depot.lan", False),  # *.depot.lan covers subdomains only
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_allows(host: str, allowed: bool) -> None:
    middleware = HostCheckMiddleware(_app, bound_host="10.0.0.5", allowed_hosts=["field.lan", "*.depot.lan"])
    assert middleware.allows(host) is allowed


@pytest.mark.parametrize("path", ["/health", "/api/v1/system", "/does-not-exist", "/schema/openapi.json"])
def test_foreign_host_gets_400_problem(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path, headers={"Host": "attacker.example"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:outpost:problem:host-not-allowed"


def test_no_cors_headers_unless_configured(client: TestClient[Litestar]) -> None:
    response = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers
