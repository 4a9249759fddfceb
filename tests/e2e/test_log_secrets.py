"""Secrets never reach stderr or the log file: not on a 500, not at DEBUG; the data dir is owner-only."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

SECOND_PASSWORD = "another long passphrase 7"


def create_admin_with_cli(data_dir: Path) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "backend", "user", "create", "--email", ADMIN_EMAIL, "--role", "admin",
         "--password-stdin", "--data-dir", str(data_dir)],
        input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def sign_in(url: str) -> dict[str, str]:
    reply = httpx.post(f"{url}/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def log_lines(data_dir: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (data_dir / "logs" / "outpost.log").read_text().splitlines()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    create_admin_with_cli(path)
    return path


@pytest.fixture
def backend_factory(data_dir: Path) -> Iterator[list[BackendProcess]]:
    started: list[BackendProcess] = []
    yield started
    for process in started:
        process.kill()


def start(started: list[BackendProcess], data_dir: Path, *args: str) -> BackendProcess:
    process = BackendProcess(data_dir, *args)
    started.append(process)
    process.wait_ready()
    return process


def test_a_500_is_logged_with_its_request_id_and_no_secret(
    data_dir: Path, backend_factory: list[BackendProcess]
) -> None:
    backend = start(backend_factory, data_dir)
    tokens = sign_in(backend.url)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = httpx.post(f"{backend.url}/api/v1/api-keys", json={"name": "probe", "scopes": ["*"]}, headers=bearer)
    assert created.status_code == 201, created.text
    api_key = created.json()["key"]
    # An honest fault: tables gone from under the running backend, so signing in and listing settings fail inside.
    with closing(sqlite3.connect(data_dir / "outpost.db")) as db:
        db.execute("ALTER TABLE users RENAME TO users_gone")
        db.execute("ALTER TABLE saved_settings RENAME TO saved_settings_gone")
        db.commit()

    login = httpx.post(
        f"{backend.url}/api/v1/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"X-Request-ID": "planted-login-500"},
        timeout=30,
    )
    keyed = httpx.get(
        f"{backend.url}/api/v1/settings", headers={"X-API-Key": api_key, "X-Request-ID": "planted-key-500"}, timeout=30
    )
    assert (login.status_code, keyed.status_code) == (500, 500), (login.text, keyed.text)
    assert backend.stop() == 0

    stderr = "\n".join(backend.stderr_lines)
    log_file = (data_dir / "logs" / "outpost.log").read_text()
    # The key's secret is everything after opk_<prefix>_ (it may hold "_" itself: rsplit once gave "M").
    for secret in (ADMIN_PASSWORD, api_key, api_key.split("_", 2)[2], tokens["access_token"]):
        assert secret not in stderr
        assert secret not in log_file
    errors = [line for line in log_lines(data_dir) if line.get("level") == "error"]
    for request_id in ("planted-login-500", "planted-key-500"):
        [logged] = [line for line in errors if line.get("request_id") == request_id]
        assert "OperationalError" in str(logged.get("exception")), logged
        assert "Traceback" in str(logged.get("exception"))
        assert request_id in stderr
    assert "OperationalError" in stderr


def test_debug_logging_keeps_hashes_and_passwords_out_and_files_owner_only(
    data_dir: Path, backend_factory: list[BackendProcess]
) -> None:
    backend = start(backend_factory, data_dir, "--log-level", "DEBUG")
    tokens = sign_in(backend.url)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    # A user created now: the driver would log its new hash as an INSERT parameter.
    new_user = {"email": "second@example.org", "password": SECOND_PASSWORD, "roles": ["viewer"]}
    assert httpx.post(f"{backend.url}/api/v1/users", json=new_user, headers=bearer).status_code == 201
    assert httpx.get(f"{backend.url}/ready").status_code == 200  # touches the queue and the cache
    settings = httpx.get(f"{backend.url}/api/v1/settings", headers=bearer).json()["items"]
    assert {item["name"]: item["value"] for item in settings}["log_level"] == "DEBUG"
    assert backend.stop() == 0
    with closing(sqlite3.connect(data_dir / "outpost.db")) as db:
        [(password_hash,)] = db.execute("SELECT password_hash FROM users WHERE email = ?", (new_user["email"],))
    assert password_hash.startswith("$argon2id$")

    log_file = (data_dir / "logs" / "outpost.log").read_text()
    stderr = "\n".join(backend.stderr_lines)
    hash_body = password_hash.rsplit("$", 1)[1]
    secrets = (
        password_hash,
        hash_body,
        ADMIN_PASSWORD,
        SECOND_PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
    )
    for secret in secrets:
        assert secret not in log_file
        assert secret not in stderr

    loose = []
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            loose.append(f"{path.relative_to(data_dir)} {oct(mode)}")
    assert not loose, loose
