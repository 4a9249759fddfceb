"""The first administrator: created once, only from this machine, with a good password; nothing else is open."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.settings import Settings
from tests.backend.auth.helpers import assert_problem, assert_unauthorized, field_errors
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_HOST, setup_token_header

PUBLIC_OPERATIONS = {
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/api/v1/setup"),
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
}


def setup_token_path(client: TestClient[Litestar]) -> Path:
    return Path(client.app.state.settings.paths.setup_token)


def token_header(client: TestClient[Litestar]) -> dict[str, str]:
    """The setup token header while the app's data directory holds one (none once a user exists)."""
    path = setup_token_path(client)
    return setup_token_header(client.app.state.settings.data_dir) if path.exists() else {}


def post_setup(client: TestClient[Litestar], body: dict[str, Any]) -> httpx.Response:
    """POST /api/v1/setup with the setup token the app wrote to its data directory."""
    return client.post("/api/v1/setup", json=body, headers=token_header(client))


def post_setup_from(client: TestClient[Litestar], address: str, body: dict[str, Any]) -> httpx.Response:
    """POST /api/v1/setup (with the setup token) as if from address: the app on its own loop with that ASGI client."""
    headers = token_header(client)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app, client=(address, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as other:
            return await other.post("/api/v1/setup", json=body, headers=headers)

    with client.portal() as portal:
        return portal.call(call)


def test_setup_state_is_true_until_the_first_admin_exists(anonymous_client: TestClient[Litestar]) -> None:
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": True}
    created = post_setup(anonymous_client, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert created.status_code == 201, created.text
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": False}


def test_first_admin_gets_the_admin_role_and_can_sign_in(anonymous_client: TestClient[Litestar]) -> None:
    created = post_setup(anonymous_client, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "display_name": "Ada"})
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["roles"] == ["admin"]
    assert user["is_active"] is True
    assert user["display_name"] == "Ada"
    assert "password" not in created.text
    tokens = anonymous_client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    me = anonymous_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["permissions"] == ["*"]


@pytest.mark.parametrize("second_email", [ADMIN_EMAIL, "another@example.org"], ids=["same-email", "other-email"])
def test_setup_works_only_while_there_is_no_user(anonymous_client: TestClient[Litestar], second_email: str) -> None:
    assert post_setup(anonymous_client, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).is_success
    again = post_setup(anonymous_client, {"email": second_email, "password": "a second passphrase 77"})
    assert_problem(again, 409)
    attacker = anonymous_client.post(
        "/api/v1/auth/login", json={"email": second_email, "password": "a second passphrase 77"}
    )
    assert attacker.status_code == 401


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (ADMIN_EMAIL, "short pass"),
        (ADMIN_EMAIL, "password1234"),
        (ADMIN_EMAIL, "Password123!"),
        ("firstadmin@example.org", "i am firstadmin, hello"),
        ("firstadmin@example.org", "FIRSTADMIN@EXAMPLE.ORG"),
        (ADMIN_EMAIL, "aaaaaaaaaaaaaaaa"),
    ],
    ids=["too-short", "common", "common-decorated", "contains-email-local-part", "the-email", "too-few-distinct"],
)
def test_weak_first_admin_password_is_422_naming_password(
    anonymous_client: TestClient[Litestar], email: str, password: str
) -> None:
    response = post_setup(anonymous_client, {"email": email, "password": password})
    assert field_errors(assert_problem(response, 422)) == {"password"}
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": True}


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.20", "2001:db8::7", "::ffff:10.0.0.5", "unknown"])
def test_setup_from_another_machine_is_403_and_audited(
    anonymous_client: TestClient[Litestar], settings: Settings, address: str
) -> None:
    response = post_setup_from(anonymous_client, address, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert_problem(response, 403)
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": True}
    with sqlite3.connect(settings.paths.database) as db:
        rows = db.execute("SELECT action, outcome, client FROM audit_events").fetchall()
    assert rows == [("setup.first_admin", "denied", address)]


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
def test_setup_from_loopback_is_allowed(anonymous_client: TestClient[Litestar], address: str) -> None:
    """The positive control of the refusal above: the same call, from this machine."""
    response = post_setup_from(anonymous_client, address, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 201, response.text
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": False}


def test_setup_is_audited_as_the_first_admin(anonymous_client: TestClient[Litestar]) -> None:
    admin = post_setup(anonymous_client, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert admin.status_code == 201
    tokens = anonymous_client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    events = anonymous_client.get("/api/v1/audit", params={"action": "setup.first_admin"}, headers=headers).json()
    [event] = events["items"]
    assert event["target"] == f"user:{ADMIN_EMAIL}"
    assert event["details"] == {"roles": ["admin"]}
    assert event["outcome"] == "success"


def _protected_operations(client: TestClient[Litestar]) -> list[tuple[str, str]]:
    schema = client.get("/schema/openapi.json").json()
    return [
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"} and (method, path) not in PUBLIC_OPERATIONS
    ]


def test_every_other_api_operation_is_401_before_any_user_exists(anonymous_client: TestClient[Litestar]) -> None:
    operations = _protected_operations(anonymous_client)
    assert len(operations) >= 20
    answers = {}
    for method, path in operations:
        concrete = re.sub(r"\{[^}]+\}", "some-id", path)
        response = anonymous_client.request(method.upper(), concrete, json={} if method != "get" else None)
        answers[f"{method.upper()} {path}"] = response.status_code
        if response.status_code == 401:
            assert_unauthorized(response)
    assert {name: status for name, status in answers.items() if status != 401} == {}
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": True}


def test_public_operations_answer_without_credentials(anonymous_client: TestClient[Litestar]) -> None:
    assert anonymous_client.get("/health").status_code == 200
    assert anonymous_client.get("/ready").status_code == 200
    assert anonymous_client.get("/api/v1/setup").status_code == 200
    login = anonymous_client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 401  # answered (nobody exists yet), not refused for lack of credentials
    assert anonymous_client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"}).status_code == 401


# The one-time setup token (another user of this machine must not be able to claim a fresh instance).


@pytest.mark.parametrize("how", ["missing", "wrong", "empty", "in the query string"])
def test_setup_without_the_setup_token_is_403_and_audited(
    anonymous_client: TestClient[Litestar], settings: Settings, how: str
) -> None:
    token = setup_token_path(anonymous_client).read_text()
    body = {"email": "Intruder Passphrase 5", "password": ADMIN_PASSWORD}
    headers, params = {
        "missing": ({}, {}),
        "wrong": ({"X-Setup-Token": token[:-2] + "xx"}, {}),
        "empty": ({"X-Setup-Token": ""}, {}),
        "in the query string": ({}, {"setup_token": token, "X-Setup-Token": token}),
    }[how]
    response = anonymous_client.post("/api/v1/setup", json=body, headers=headers, params=params)
    assert "X-Setup-Token" in assert_problem(response, 403)["detail"]
    assert token not in response.text
    assert anonymous_client.get("/api/v1/setup").json() == {"needs_first_admin": True}
    with sqlite3.connect(settings.paths.database) as db:
        rows = db.execute("SELECT action, outcome, actor_label, client FROM audit_events").fetchall()
    [(action, outcome, label, client)] = rows
    assert (action, outcome, client) == ("setup.first_admin", "denied", "testclient")
    assert re.fullmatch(r"unknown:[0-9a-f]{16}", label)  # what was typed as an email is not kept


def test_the_setup_token_is_an_owner_only_file_until_the_first_user_exists(
    anonymous_client: TestClient[Litestar],
) -> None:
    path = setup_token_path(anonymous_client)
    token = path.read_text()
    assert len(token) >= 43  # 256 random bits
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert post_setup(anonymous_client, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code == 201
    assert not path.exists()
    again = anonymous_client.post(
        "/api/v1/setup",
        json={"email": "second@example.org", "password": ADMIN_PASSWORD},
        headers={"X-Setup-Token": token},
    )
    assert_problem(again, 409)


def test_the_setup_operation_documents_its_header(anonymous_client: TestClient[Litestar]) -> None:
    operation = anonymous_client.get("/schema/openapi.json").json()["paths"]["/api/v1/setup"]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert (header["name"].lower(), header["required"]) == ("x-setup-token", False)
    assert "403" in operation["responses"]
