"""Backups on a real `outpost serve`: taken while clients write, checked, restored with the counts they held."""

from __future__ import annotations

import signal
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx

from tests.backend_process import BackendProcess, run_outpost
from tests.e2e.admin_backend import UNLIMITED, admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, bearer

WRITERS = 4


def _count(database: Path) -> int:
    """Live records of the notes collection in a database file, read directly."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return int(connection.execute("SELECT count(*) FROM c_notes WHERE NOT _deleted").fetchone()[0])


def test_a_backup_under_writes_is_sound_and_restores_with_its_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stop = threading.Event()
    with admin_backend(data_dir, UNLIMITED) as process:
        admin = bearer(process.url, *ADMIN)
        with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
            fields = [{"name": "label", "type": "text"}]
            assert http.post("/api/v1/collections", json={"name": "notes", "fields": fields}).status_code == 201

        def writer(n: int) -> int:
            made = 0
            with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
                while not stop.is_set() or made < 20:
                    reply = http.post("/api/v1/collections/notes/records", json={"label": f"w{n} {made}"})
                    assert reply.status_code == 201, reply.text
                    made += 1
            return made

        with ThreadPoolExecutor(WRITERS) as pool:
            writes = [pool.submit(writer, n) for n in range(WRITERS)]
            taken = run_outpost("backup", "create", "--data-dir", str(data_dir), timeout=120)
            stop.set()
            written = sum(future.result() for future in writes)
        assert taken.returncode == 0, taken.stderr
        backup = Path(taken.stdout.strip())
        assert backup.parent == data_dir / "backups"
        assert oct(backup.stat().st_mode & 0o777) == "0o600"
        in_backup = _count(backup)
        assert 0 < in_backup < written  # taken while the writers went on
        with closing(sqlite3.connect(backup)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        listed = run_outpost("backup", "list", "--data-dir", str(data_dir))
        assert backup.name in listed.stdout
        refused = run_outpost("backup", "restore", "--yes", str(backup), "--data-dir", str(data_dir))
        assert refused.returncode == 1
        assert "stop it, then restore" in refused.stderr
        assert process.stop(signal.SIGTERM) == 0
    assert _count(data_dir / "outpost.db") == written
    restored = run_outpost("backup", "restore", "--yes", str(backup), "--data-dir", str(data_dir))
    assert restored.returncode == 0, restored.stderr
    previous = next((data_dir / "backups").glob("pre-restore-*.db"))
    assert _count(previous) == written  # the database as it was, kept
    assert _count(data_dir / "outpost.db") == in_backup
    again = BackendProcess(data_dir)
    try:
        again.wait_ready()
        with httpx.Client(base_url=again.url, headers=bearer(again.url, *ADMIN), timeout=60) as http:
            listed = http.get("/api/v1/collections/notes/records", params={"count": "true", "limit": 1}).json()
            assert listed["total"] == in_backup
            assert http.post("/api/v1/collections/notes/records", json={"label": "after"}).status_code == 201
    finally:
        again.kill()


def test_export_and_import_from_the_command_line_without_a_backend(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    assert run_outpost("demo", "--data-dir", data_dir, "--scale", "0.05", timeout=120).returncode == 0
    exported = run_outpost("export", "sites", "--format", "jsonl", "--data-dir", data_dir, timeout=120)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert len(lines) > 0
    source = tmp_path / "sites.jsonl"
    source.write_text(exported.stdout)
    again = run_outpost("import", "sites", str(source), "--data-dir", data_dir, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"0 created, {len(lines)} updated, 0 rows with problems." in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nnot a code,x\n")
    refused = run_outpost("import", "sites", str(bad), "--data-dir", data_dir, timeout=120)
    assert refused.returncode == 1
    assert "nothing was imported" in refused.stderr
    assert "Report of the problems:" in refused.stdout
