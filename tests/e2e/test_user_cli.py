"""`outpost user …` and `outpost audit verify` as real commands: alone on a data dir, and through a running backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend_process import BackendProcess, run_outpost
from tests.conftest import setup_token_header

ADMIN = ("admin@example.org", "a long test passphrase 42")
PASSWORD = "correct horse battery staple 7"


def login(url: str, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/auth/login", json={"email": email, "password": password})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """A running backend whose first administrator was set up over HTTP."""
    process = BackendProcess(tmp_path_factory.mktemp("cli") / "data")
    try:
        process.wait_ready()
        created = httpx.post(
            f"{process.url}/api/v1/setup",
            json={"email": ADMIN[0], "password": ADMIN[1]},
            headers=setup_token_header(process.data_dir),
        )
        assert created.status_code == 201, created.text
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def admin(backend: BackendProcess) -> dict[str, str]:
    response = login(backend.url, *ADMIN)
    assert response.status_code == 200, response.text
    return bearer(response.json())


def create_over_http(backend: BackendProcess, admin: dict[str, str], email: str) -> str:
    body = {"email": email, "password": PASSWORD, "roles": ["viewer"]}
    response = httpx.post(f"{backend.url}/api/v1/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_user_create_and_list_without_a_backend(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    created = run_outpost(
        "user", "create", "--email", "Ops@Example.org", "--role", "admin", "--password-stdin", "--data-dir", data_dir,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Created Ops@Example.org with roles admin."
    listed = run_outpost("user", "list", "--data-dir", data_dir)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.split() == ["Ops@Example.org", "Ops", "admin", "active"]
    with closing(sqlite3.connect(tmp_path / "data" / "outpost.db")) as db:
        [(password_hash, email_key)] = db.execute("SELECT password_hash, email_key FROM users").fetchall()
        [(actor_type, action)] = db.execute("SELECT actor_type, action FROM audit_events").fetchall()
    assert password_hash.startswith("$argon2id$")
    assert email_key == "ops@example.org"
    assert (actor_type, action) == ("system", "user.create")


def test_weak_password_without_a_backend_is_refused_naming_password(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    result = run_outpost(
        "user", "create", "--email", "ops@example.org", "--password-stdin", "--data-dir", data_dir,
        stdin="password1234\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert "password:" in result.stderr
    assert "too common" in result.stderr
    with closing(sqlite3.connect(tmp_path / "data" / "outpost.db")) as db:
        assert db.execute("SELECT count(*) FROM users").fetchall() == [(0,)]


def test_user_create_through_a_running_backend(backend: BackendProcess, admin: dict[str, str]) -> None:
    created = run_outpost(
        "user", "create", "--email", "cli-made@example.org", "--role", "admin", "--role", "viewer",
        "--password-stdin", "--data-dir", str(backend.data_dir),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Created cli-made@example.org with roles admin, viewer."
    # The backend carried it out (it holds the data dir): the new person signs in over HTTP at once.
    signed_in = login(backend.url, "cli-made@example.org", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    me = httpx.get(f"{backend.url}/api/v1/auth/me", headers=bearer(signed_in.json()))
    assert me.status_code == 200
    assert me.json()["roles"] == ["admin", "viewer"]
    events = httpx.get(f"{backend.url}/api/v1/audit", params={"action": "user.create"}, headers=admin).json()
    [event] = [e for e in events["items"] if e["target"] == "user:cli-made@example.org"]
    assert event["actor_type"] == "system"
    assert event["actor_label"].startswith("cli (")


def test_user_disable_ends_the_session_at_once_and_enable_lets_them_back(
    backend: BackendProcess, admin: dict[str, str]
) -> None:
    create_over_http(backend, admin, "leaver@example.org")
    tokens = login(backend.url, "leaver@example.org", PASSWORD).json()
    me = f"{backend.url}/api/v1/auth/me"
    assert httpx.get(me, headers=bearer(tokens)).status_code == 200

    disabled = run_outpost("user", "disable", "leaver@example.org", "--data-dir", str(backend.data_dir))
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stdout.split()[-1] == "disabled"
    assert httpx.get(me, headers=bearer(tokens)).status_code == 401
    refreshed = httpx.post(f"{backend.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    assert login(backend.url, "leaver@example.org", PASSWORD).status_code == 401

    enabled = run_outpost("user", "enable", "LEAVER@example.org", "--data-dir", str(backend.data_dir))
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout.split()[-1] == "active"
    assert login(backend.url, "leaver@example.org", PASSWORD).status_code == 200


def test_user_reset_password_through_a_running_backend(backend: BackendProcess, admin: dict[str, str]) -> None:
    create_over_http(backend, admin, "forgetful@example.org")
    tokens = login(backend.url, "forgetful@example.org", PASSWORD).json()
    new_password = "a brand new passphrase 9"
    reset = run_outpost(
        "user", "reset-password", "forgetful@example.org", "--password-stdin", "--data-dir", str(backend.data_dir),
        stdin=new_password + "\n",
    )  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    assert "forgetful@example.org" in reset.stdout
    refreshed = httpx.post(f"{backend.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401  # the sessions ended
    assert login(backend.url, "forgetful@example.org", PASSWORD).status_code == 401
    assert login(backend.url, "forgetful@example.org", new_password).status_code == 200


def test_weak_password_through_a_running_backend_is_refused_naming_password(
    backend: BackendProcess, admin: dict[str, str]
) -> None:
    create_over_http(backend, admin, "steady@example.org")
    result = run_outpost(
        "user", "reset-password", "steady@example.org", "--password-stdin", "--data-dir", str(backend.data_dir),
        stdin="steady@example.org\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert "password:" in result.stderr
    assert login(backend.url, "steady@example.org", PASSWORD).status_code == 200  # unchanged


def test_audit_verify_passes_an_intact_log_and_fails_an_edited_one(tmp_path: Path) -> None:
    process = BackendProcess(tmp_path / "data")
    try:
        process.wait_ready()
        body = {"email": ADMIN[0], "password": ADMIN[1]}
        headers = setup_token_header(process.data_dir)
        assert httpx.post(f"{process.url}/api/v1/setup", json=body, headers=headers).is_success
        assert login(process.url, *ADMIN).status_code == 200
        assert login(process.url, ADMIN[0], "not the password").status_code == 401
        intact = run_outpost("audit", "verify", "--data-dir", str(process.data_dir))  # through the backend
        assert intact.returncode == 0, intact.stderr
        assert intact.stdout.strip() == "audit log intact: 3 rows, anchored at row 3"
        assert process.stop() == 0
    finally:
        process.kill()

    with closing(sqlite3.connect(tmp_path / "data" / "outpost.db")) as db, db:
        db.execute("UPDATE audit_events SET outcome = 'success' WHERE id = 3")  # hide the failed sign-in
    tampered = run_outpost("audit", "verify", "--data-dir", str(tmp_path / "data"))  # by the CLI itself
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stderr
    assert "row 3 does not match its MAC" in tampered.stderr
