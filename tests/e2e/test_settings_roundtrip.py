"""Every savable setting keeps its value and type through the CLI, the API and a restart of a real backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.settings import SAVABLE
from tests.backend_process import BackendProcess, run_outpost
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

# What the CLI is given (text), and what the API must show after a restart (typed).
BY_CLI: dict[str, tuple[str, Any]] = {
    "allowed_hosts": ("field-laptop.lan,depot.lan", ["field-laptop.lan", "depot.lan"]),
    "cors_origins": ("https://console.example", ["https://console.example"]),
    "sqlite_synchronous": ("NORMAL", "NORMAL"),
    "log_level": ("WARNING", "WARNING"),
    "max_body_bytes": ("20000000", 20_000_000),
    "max_upload_bytes": ("5000000000", 5_000_000_000),
    "backup_interval_hours": ("6", 6),
    "backup_keep": ("3", 3),
    "jobs_keep_days": ("7", 7),
    "rate_limit_per_minute": ("1234", 1234),
}
BY_API: dict[str, Any] = {
    "allowed_hosts": ["other.lan"],
    "cors_origins": ["https://a.example", "http://b.example:8080"],
    "sqlite_synchronous": "FULL",
    "log_level": "ERROR",
    "max_body_bytes": 30_000_000,
    "max_upload_bytes": 40_000_000,
    "backup_interval_hours": 0,
    "backup_keep": 20,
    "jobs_keep_days": 90,
    "rate_limit_per_minute": 4321,
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    created = run_outpost(
        "user", "create", "--email", ADMIN_EMAIL, "--role", "admin", "--password-stdin", "--data-dir", str(path),
        stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return path


@pytest.fixture
def processes() -> Iterator[list[BackendProcess]]:
    started: list[BackendProcess] = []
    yield started
    for process in started:
        process.kill()


def serve(processes: list[BackendProcess], data_dir: Path) -> tuple[BackendProcess, dict[str, str]]:
    process = BackendProcess(data_dir)
    processes.append(process)
    process.wait_ready()
    login = httpx.post(f"{process.url}/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    return process, {"Authorization": f"Bearer {login.json()['access_token']}"}


def running(process: BackendProcess, bearer: dict[str, str]) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"{process.url}/api/v1/settings", headers=bearer)
    assert reply.status_code == 200, reply.text
    return {item["name"]: item for item in reply.json()["items"]}


def test_every_savable_setting_round_trips_through_cli_api_and_restart(
    data_dir: Path, processes: list[BackendProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests' own default (tests/conftest.py) would come from the environment, above any saved value.
    monkeypatch.delenv("OUTPOST_BACKUP_INTERVAL_HOURS", raising=False)
    assert set(BY_CLI) == set(BY_API) == SAVABLE, "a new savable setting needs a value here"
    for name, (text, _typed) in BY_CLI.items():
        saved = run_outpost("settings", "set", name, text, "--data-dir", str(data_dir))
        assert saved.returncode == 0, saved.stderr
    listed = run_outpost("settings", "list", "--data-dir", str(data_dir))
    assert listed.returncode == 0, listed.stderr

    process, bearer = serve(processes, data_dir)
    items = running(process, bearer)
    for name, (_text, typed) in BY_CLI.items():
        assert (items[name]["value"], items[name]["source"]) == (typed, "saved"), name
        assert items[name]["saved_error"] is None

    reply = httpx.patch(f"{process.url}/api/v1/settings", json=BY_API, headers=bearer)
    assert reply.status_code == 200, reply.text
    assert process.stop() == 0

    process, bearer = serve(processes, data_dir)
    items = running(process, bearer)
    for name, typed in BY_API.items():
        assert (items[name]["value"], items[name]["saved"], items[name]["source"]) == (typed, typed, "saved"), name
    assert run_outpost("settings", "list", "--data-dir", str(data_dir)).returncode == 0  # through the running backend
    assert process.stop() == 0


def test_a_bad_saved_setting_is_named_and_ignored_and_the_backend_starts(
    data_dir: Path, processes: list[BackendProcess]
) -> None:
    with closing(sqlite3.connect(data_dir / "outpost.db")) as db:
        db.execute("INSERT INTO saved_settings VALUES ('rate_limit_per_minute', 'oops{', '2026-11-30 12:00:00')")
        db.commit()
    listed = run_outpost("settings", "list", "--data-dir", str(data_dir))
    assert listed.returncode == 0, listed.stderr
    assert "rate_limit_per_minute" in listed.stderr  # the warning, on stderr
    [line] = [line for line in listed.stdout.splitlines() if "rate_limit_per_minute" in line]
    assert "ignored" in line

    process, bearer = serve(processes, data_dir)
    assert running(process, bearer)["rate_limit_per_minute"]["value"] == 6000
    assert running(process, bearer)["rate_limit_per_minute"]["saved_error"]
    assert any("rate_limit_per_minute" in line and "ignored" in line for line in process.stderr_lines)
    assert process.stop() == 0
