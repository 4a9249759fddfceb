"""`outpost status` says in plain words what runs where, and prints the serving backend's URL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.backend_process import BackendProcess, run_outpost

JSON_KEYS = {
    "version",
    "mode",
    "data_dir",
    "database_path",
    "database_bytes",
    "schema_revision",
    "pid",
    "started_at",
    "served_by",
}


def test_status_of_a_running_backend_prints_its_url_in_plain_words(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data")
    try:
        backend.wait_ready()
        shown = run_outpost("status", "--data-dir", str(backend.data_dir))
        assert shown.returncode == 0, shown.stderr
        lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in shown.stdout.splitlines()}
        assert lines["url"] == backend.url
        assert lines["answered by"] == f"the running backend (pid {backend.process.pid})"
        assert lines["database"] == (
            f"SQLite {sqlite3.sqlite_version} in {backend.data_dir.resolve() / 'outpost.db'} "
            "(embedded mode: a file in the data dir, no database server)"
        )
        assert "mode" not in lines
        assert "served_by" not in lines

        raw = json.loads(run_outpost("status", "--json", "--data-dir", str(backend.data_dir)).stdout)
        assert set(raw) == {*JSON_KEYS, "url", "database_engine"}  # the keys scripts read stay; these are new
        assert raw["url"] == backend.url
        assert raw["mode"] == "embedded"
        assert raw["served_by"] == "backend"
    finally:
        backend.kill()


def test_status_with_no_backend_says_this_command_answered(tmp_path: Path) -> None:
    shown = run_outpost("status", "--data-dir", str(tmp_path / "data"))
    assert shown.returncode == 0, shown.stderr
    assert "answered by: this command (no backend is running" in shown.stdout
    assert "url: none (no backend is running)" in shown.stdout
    raw = json.loads(run_outpost("status", "--json", "--data-dir", str(tmp_path / "data")).stdout)
    assert raw["url"] is None
    assert raw["served_by"] == "cli"
