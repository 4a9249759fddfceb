"""HEAD is served wherever GET is: the same status and headers, no body; Allow lists name it."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

# Every kind of GET route: public, protected, with a path parameter, the schema and its assets.
GET_PATHS = [
    "/health",
    "/ready",
    "/schema/openapi.json",
    "/schema",
    "/api/v1/setup",
    "/api/v1/system",
    "/api/v1/settings",
    "/api/v1/auth/me",
    "/api/v1/users",
    "/api/v1/roles",
    "/api/v1/roles/admin",
    "/api/v1/roles/nobody",
    "/api/v1/api-keys",
    "/api/v1/audit",
    "/api/v1/audit?limit=0",
]
# Headers that differ between any two replies.
VARYING = {"date", "x-request-id", "ratelimit-remaining", "ratelimit-reset"}


def _headers(response: object) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in VARYING}  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_answers_as_get_without_a_body(client: TestClient[Litestar], path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code, head.text
    assert head.content == b""
    assert _headers(head) == _headers(get)


def test_head_without_credentials_is_401_like_get(anonymous_client: TestClient[Litestar]) -> None:
    assert anonymous_client.head("/api/v1/users").status_code == 401
    assert anonymous_client.head("/api/v1/users").content == b""


@pytest.mark.parametrize("path", ["/health", "/api/v1/users", "/api/v1/roles/admin", "/api/v1/settings"])
def test_options_lists_head_beside_get(client: TestClient[Litestar], path: str) -> None:
    allowed = {method.strip() for method in client.options(path).headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed


def test_a_405_lists_head_where_get_is_served(client: TestClient[Litestar]) -> None:
    response = client.put("/api/v1/users")
    assert response.status_code == 405
    assert {"GET", "HEAD", "POST"} <= {method.strip() for method in response.headers["allow"].split(",")}


def test_head_of_a_post_only_route_is_405(client: TestClient[Litestar]) -> None:
    response = client.head("/api/v1/auth/login")
    assert response.status_code == 405
    assert "HEAD" not in response.headers["allow"]
