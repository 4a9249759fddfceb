"""Settings changes are audited with old and new values; those that weaken security need the administrator (*)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.control.client import run_command
from backend.settings import Settings
from backend.system.saved_settings import read_saved_settings

CLERK = {"email": "clerk@example.org", "password": "correct horse battery staple 7"}

# A value for each setting that only an administrator may change, and why it weakens security.
ADMIN_ONLY_CHANGES: dict[str, Any] = {
    "allowed_hosts": ["*"],  # the Host check off at the next start
    "cors_origins": ["https://evil.example"],  # another site's scripts call the API with a user's browser
    "log_level": "DEBUG",  # more detail in the logs than an operator chose
    "max_body_bytes": 1024**3,  # memory for the taking
    "rate_limit_per_minute": 10_000_000,  # brute force unthrottled
}


@pytest.fixture
def clerk(client: TestClient[Litestar]) -> dict[str, str]:
    """The Authorization header of a user whose only role grants settings:read and settings:write."""
    role = {"name": "settings_clerk", "permissions": ["settings:read", "settings:write"]}
    assert client.post("/api/v1/roles", json=role).status_code == 201
    created = client.post("/api/v1/users", json={**CLERK, "roles": ["settings_clerk"]})
    assert created.status_code == 201, created.text
    tokens = client.post("/api/v1/auth/login", json=CLERK, headers={"Authorization": ""})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def settings_audit(client: TestClient[Litestar]) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/audit", params={"action": "settings.update"})
    assert reply.status_code == 200, reply.text
    return list(reply.json()["items"])


@pytest.mark.parametrize(("name", "value"), ADMIN_ONLY_CHANGES.items(), ids=list(ADMIN_ONLY_CHANGES))
def test_a_settings_writer_is_refused_what_weakens_security_and_the_refusal_is_audited(
    client: TestClient[Litestar], clerk: dict[str, str], settings: Settings, name: str, value: Any
) -> None:
    refused = client.patch("/api/v1/settings", json={name: value, "sqlite_synchronous": "NORMAL"}, headers=clerk)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert name in refused.json()["detail"]
    assert read_saved_settings(settings).values == {}, "nothing of a refused change is saved"
    [denial] = settings_audit(client)
    assert (denial["outcome"], denial["actor_label"]) == ("denied", CLERK["email"])
    assert name in str(denial["details"])


def test_a_settings_writer_may_change_the_others_and_it_is_audited(
    client: TestClient[Litestar], clerk: dict[str, str], settings: Settings
) -> None:
    saved = client.patch("/api/v1/settings", json={"sqlite_synchronous": "NORMAL"}, headers=clerk)
    assert saved.status_code == 200, saved.text
    assert read_saved_settings(settings).values == {"sqlite_synchronous": "NORMAL"}
    [entry] = settings_audit(client)
    assert (entry["outcome"], entry["actor_label"]) == ("success", CLERK["email"])
    assert entry["details"] == {"sqlite_synchronous": [None, "NORMAL"]}


def test_an_administrators_changes_are_audited_with_old_and_new_values(client: TestClient[Litestar]) -> None:
    assert client.patch("/api/v1/settings", json={"allowed_hosts": ["*"], "log_level": "DEBUG"}).status_code == 200
    assert client.patch("/api/v1/settings", json={"log_level": "WARNING", "allowed_hosts": None}).status_code == 200
    assert client.patch("/api/v1/settings", json={"log_level": "WARNING"}).status_code == 200  # no change: no entry
    latest, first = settings_audit(client)
    assert first["details"] == {"allowed_hosts": [None, ["*"]], "log_level": [None, "DEBUG"]}
    assert latest["details"] == {"allowed_hosts": [["*"], None], "log_level": ["DEBUG", "WARNING"]}
    assert latest["outcome"] == "success"
    assert latest["request_id"]


def test_a_change_through_the_cli_is_audited(settings: Settings) -> None:
    run_command(settings, "settings.save", {"changes": {"max_body_bytes": "20000000"}, "os_user": "ops"})
    with closing(sqlite3.connect(settings.paths.database)) as db:
        rows = db.execute("SELECT actor_label, outcome, details FROM audit_events WHERE action = 'settings.update'")
        [(actor, outcome, details)] = rows.fetchall()
    assert (actor, outcome) == ("cli (ops)", "success")
    assert '"max_body_bytes": [null, 20000000]' in details


def test_the_api_description_says_which_settings_need_the_administrator(client: TestClient[Litestar]) -> None:
    operation = client.get("/schema/openapi.json").json()["paths"]["/api/v1/settings"]["patch"]
    refusal = operation["responses"]["403"]["description"]
    for name in ADMIN_ONLY_CHANGES:
        assert name in refusal
