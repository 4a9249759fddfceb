"""`outpost serve` as a real process on loopback: every promise of the walking skeleton."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend import __version__
from backend.datadir import DataDir, is_locked
from tests.backend_process import BackendProcess, run_outpost
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, setup_token_header


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[BackendProcess]:
    process = BackendProcess(tmp_path / "data")
    process.wait_ready()
    yield process
    process.kill()


def test_ready_event_and_runtime_file(backend: BackendProcess) -> None:
    assert backend.url.startswith("http://127.0.0.1:")
    runtime = json.loads((backend.data_dir / "runtime.json").read_text())
    assert runtime["url"] == backend.url
    assert runtime["pid"] == backend.process.pid
    assert runtime["version"] == __version__


def test_health_ready_and_problem_404_over_http(backend: BackendProcess) -> None:
    assert httpx.get(f"{backend.url}/health").json() == {"status": "ok", "version": __version__}
    ready = httpx.get(f"{backend.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"]
    missing = httpx.get(f"{backend.url}/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    assert httpx.get(f"{backend.url}/schema").status_code == 200


def test_foreign_host_is_refused(backend: BackendProcess) -> None:
    response = httpx.get(f"{backend.url}/health", headers={"Host": "rebind.attacker.example"})
    assert response.status_code == 400
    assert httpx.get(f"{backend.url}/health", headers={"Host": "localhost"}).status_code == 200


def test_second_instance_is_refused_while_first_keeps_serving(backend: BackendProcess) -> None:
    second = run_outpost("serve", "--port", "0", "--data-dir", str(backend.data_dir))
    assert second.returncode == 1
    event = json.loads(second.stdout.strip().splitlines()[-1])
    assert event["event"] == "error"
    assert str(backend.process.pid) in event["message"]
    assert backend.url in event["message"]
    assert httpx.get(f"{backend.url}/health").status_code == 200


def test_sigterm_stops_gracefully_with_exit_0_and_releases_the_lock(backend: BackendProcess) -> None:
    paths = DataDir(backend.data_dir)
    assert is_locked(paths)
    started = time.monotonic()
    assert backend.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 5
    assert backend.next_event(5)["event"] == "stopping"
    assert not is_locked(paths)
    assert not paths.runtime_file.exists()
    assert not paths.control_socket.exists()


def test_sigint_also_exits_0(backend: BackendProcess) -> None:
    assert backend.stop(signal.SIGINT) == 0


def test_data_dir_and_secrets_are_owner_only(backend: BackendProcess) -> None:
    paths = DataDir(backend.data_dir)
    assert stat.S_IMODE(paths.root.stat().st_mode) == 0o700
    for private in (paths.secret_key, paths.database, paths.runtime_file, paths.control_socket):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private


def test_logs_are_json_lines_with_request_ids(backend: BackendProcess) -> None:
    httpx.get(f"{backend.url}/health", headers={"X-Request-ID": "e2e-log-check"})
    assert backend.stop() == 0
    lines = [json.loads(line) for line in (backend.data_dir / "logs" / "outpost.log").read_text().splitlines()]
    access = [line for line in lines if line.get("request_id") == "e2e-log-check"]
    assert access
    assert access[0]["path"] == "/health"
    assert access[0]["status"] == 200


def test_cli_command_is_routed_through_the_control_channel(backend: BackendProcess) -> None:
    status = run_outpost("status", "--json", "--data-dir", str(backend.data_dir))
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["served_by"] == "backend"
    assert info["pid"] == backend.process.pid

    saved = run_outpost("settings", "set", "log_level", "DEBUG", "--data-dir", str(backend.data_dir))
    assert saved.returncode == 0, saved.stderr
    # The running backend wrote it: its API shows the saved value at once.
    credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    setup = setup_token_header(backend.data_dir)
    assert httpx.post(f"{backend.url}/api/v1/setup", json=credentials, headers=setup).status_code == 201
    token = httpx.post(f"{backend.url}/api/v1/auth/login", json=credentials).json()["access_token"]
    reply = httpx.get(f"{backend.url}/api/v1/settings", headers={"Authorization": f"Bearer {token}"})
    items = {i["name"]: i for i in reply.json()["items"]}
    assert items["log_level"]["saved"] == "DEBUG"
    assert items["log_level"]["restart_required"]

    refused = run_outpost("settings", "set", "sqlite_synchronous", "SOMETIMES", "--data-dir", str(backend.data_dir))
    assert refused.returncode == 1
    assert "sqlite_synchronous" in refused.stderr


def test_migrate_against_a_running_backend_says_so(backend: BackendProcess) -> None:
    result = run_outpost("migrate", "--data-dir", str(backend.data_dir))
    assert result.returncode == 1
    assert "already running" in result.stderr
    assert str(backend.process.pid) in result.stderr


def test_cli_works_without_a_backend_and_saved_settings_apply_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    saved = run_outpost("settings", "set", "allowed_hosts", "field-laptop.lan", "--data-dir", str(data_dir))
    assert saved.returncode == 0, saved.stderr
    status = run_outpost("status", "--json", "--data-dir", str(data_dir))
    assert json.loads(status.stdout)["served_by"] == "cli"

    process = BackendProcess(data_dir)
    try:
        process.wait_ready()
        response = httpx.get(f"{process.url}/health", headers={"Host": "field-laptop.lan"})
        assert response.status_code == 200
        assert process.stop() == 0
    finally:
        process.kill()


def test_newer_database_is_refused_at_start(tmp_path: Path) -> None:
    import sqlite3

    data_dir = tmp_path / "data"
    assert run_outpost("migrate", "--data-dir", str(data_dir)).returncode == 0
    with sqlite3.connect(data_dir / "outpost.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    process = BackendProcess(data_dir)
    try:
        event = process.next_event()
        assert event["event"] == "error"
        assert "newer Outpost" in event["message"]
        assert process.process.wait(timeout=20) == 1
    finally:
        process.kill()


def test_cli_help_and_version() -> None:
    help_text = run_outpost("--help").stdout
    for command in ("gui", "serve", "migrate", "status", "settings"):
        assert command in help_text
    assert run_outpost("--version").stdout.strip() == f"outpost {__version__}"


def test_serve_never_imports_qt(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv=['outpost','--help'];\n"
        "import backend.cli, backend.server, backend.app\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'desktop'))], 'Qt loaded'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_head_over_http_is_get_without_a_body(backend: BackendProcess) -> None:
    for path in ("/health", "/schema/openapi.json", "/api/v1/users"):
        get, head = httpx.get(f"{backend.url}{path}"), httpx.head(f"{backend.url}{path}")
        assert head.status_code == get.status_code, path
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"], path
        assert head.headers["content-type"] == get.headers["content-type"], path
