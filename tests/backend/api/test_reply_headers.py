"""Replies that carry credentials are not stored by caches (RFC 6749 §5.1); a 201 says where the new resource is."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, sign_in_first_admin

PASSWORD = "correct horse battery staple 7"


def _not_stored(response: httpx.Response) -> None:
    assert response.status_code in {200, 201}, response.text
    assert "no-store" in response.headers.get("cache-control", ""), response.request.url
    assert response.headers.get("pragma") == "no-cache", response.request.url


def test_setup_and_sign_in_replies_are_not_stored(anonymous_client: TestClient[Litestar]) -> None:
    replies: list[httpx.Response] = []
    anonymous_client.event_hooks["response"].append(replies.append)
    sign_in_first_admin(anonymous_client)
    setup = next(r for r in replies if r.request.url.path == "/api/v1/setup")
    login = next(r for r in replies if r.request.url.path == "/api/v1/auth/login")
    _not_stored(setup)
    _not_stored(login)
    assert setup.status_code == 201
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = anonymous_client.get("/api/v1/auth/me", headers=headers).json()
    assert setup.headers["location"] == f"/api/v1/users/{me['id']}"


def test_refresh_and_password_change_replies_are_not_stored(anonymous_client: TestClient[Litestar]) -> None:
    sign_in_first_admin(anonymous_client)
    tokens = anonymous_client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    refreshed = anonymous_client.post("/api/v1/auth/refresh", json={"refresh_token": tokens.json()["refresh_token"]})
    _not_stored(refreshed)
    changed = anonymous_client.post(
        "/api/v1/auth/me/password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "another long passphrase 9"},
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
    )
    _not_stored(changed)


def test_created_resources_are_located_and_a_new_key_is_not_stored(client: TestClient[Litestar]) -> None:
    user = client.post("/api/v1/users", json={"email": "new@example.org", "password": PASSWORD})
    assert user.status_code == 201, user.text
    assert user.headers["location"] == f"/api/v1/users/{user.json()['id']}"
    assert client.get(user.headers["location"]).json() == user.json()

    role = client.post("/api/v1/roles", json={"name": "crew", "permissions": ["users:read"]})
    assert role.status_code == 201, role.text
    assert role.headers["location"] == "/api/v1/roles/crew"
    assert client.get(role.headers["location"]).status_code == 200

    key = client.post("/api/v1/api-keys", json={"name": "sync", "scopes": ["users:read"]})
    _not_stored(key)
    assert key.status_code == 201
    assert key.headers["location"] == f"/api/v1/api-keys/{key.json()['api_key']['id']}"
    assert client.delete(key.headers["location"]).status_code == 204


def test_the_headers_are_documented(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path, method, status in [
        ("/api/v1/auth/login", "post", "200"),
        ("/api/v1/auth/refresh", "post", "200"),
        ("/api/v1/auth/me/password", "post", "200"),
        ("/api/v1/setup", "post", "201"),
        ("/api/v1/api-keys", "post", "201"),
    ]:
        headers = {name.lower() for name in paths[path][method]["responses"][status]["headers"]}
        assert {"cache-control", "pragma"} <= headers, f"{method} {path}"
    for path in ["/api/v1/setup", "/api/v1/users", "/api/v1/roles", "/api/v1/api-keys"]:
        assert "Location" in paths[path]["post"]["responses"]["201"]["headers"], path
