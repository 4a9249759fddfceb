"""Restoring a backup: the database replaced is kept; the restored one is settled (jobs, audit chain, audit)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from backend.datadir import DataDir
from backend.jobs.kinds import JobKind
from backend.observability.audit import Actor, AuditEntry, AuditTrail
from backend.system.backups import BackupService
from backend.system.restore import (
    SET_ASIDE,
    RestoreRefused,
    RestoreRequest,
    check_restorable,
    record_failed_restore,
    restore_database,
    settle_restore,
)
from tests.backend.jobs.harness import ADMIN, Jobs, running_jobs

KINDS = {"noop": JobKind("noop", lambda ctx: None, title=lambda params: "no-op")}
RESTORER = Actor("user", "u-9", "restorer@example.org", "127.0.0.1")
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _audit(stack: Jobs) -> AuditTrail:
    """The trail the harness's stack writes to (same key, same anchor)."""
    return stack.service.audit


def _actions(database: Path) -> list[tuple[str, str, str | None]]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return list(connection.execute("SELECT action, outcome, actor_label FROM audit_events ORDER BY id"))


async def test_a_restore_keeps_the_database_it_replaces_and_settles_the_restored_one(tmp_path: Path) -> None:
    root = tmp_path / "data"
    async with running_jobs(root, KINDS, start=False) as stack:
        caught = await stack.service.submit(ADMIN, "noop", {})  # queued when the backup is taken
        backup = BackupService(stack.paths).create()
        await _audit(stack).record(AuditEntry("after.backup", ADMIN))  # the anchor moves past the backup's head
        later = await stack.service.submit(ADMIN, "noop", {})
    paths = DataDir(root)
    done = restore_database(paths, paths.backups / backup.name, RESTORER)
    assert done.previous is not None
    assert paths.restore_marker.exists()
    assert ("after.backup", "success", ADMIN.label) in _actions(done.previous)  # the replaced database, kept whole
    assert ("after.backup", "success", ADMIN.label) not in _actions(paths.database)
    async with running_jobs(root, KINDS, start=False) as stack:
        assert stack.queue.pending() == 2  # the hand-overs of both jobs are still in queue.db
        assert await settle_restore(paths, _audit(stack), stack.service, stack.queue)
        assert stack.queue.pending() == 0
        view = await stack.service.get(caught.id)
        assert (view.state, view.message) == ("cancelled", SET_ASIDE)
        with pytest.raises(Exception, match="No job"):
            await stack.service.get(later.id)  # made after the backup: only in the copy kept
        report = await _audit(stack).verify()
        assert report.problems == []
        assert _actions(paths.database)[-1] == ("backup.restore", "success", RESTORER.label)
        assert not paths.restore_marker.exists()
        assert not await settle_restore(paths, _audit(stack), stack.service, stack.queue)  # settled once


async def test_a_restore_refused_after_it_was_asked_is_audited_as_a_failure(tmp_path: Path) -> None:
    root = tmp_path / "data"
    async with running_jobs(root, KINDS, start=False) as stack:
        queued = await stack.service.submit(ADMIN, "noop", {})
        request = RestoreRequest(tmp_path / "gone.db", RESTORER)
        record_failed_restore(stack.paths, request, "the copies could not be made: disk full")
        assert not await settle_restore(stack.paths, _audit(stack), stack.service, stack.queue)
        assert (await stack.service.get(queued.id)).state == "queued"  # nothing was swapped: nothing set aside
        assert stack.queue.pending() == 1
        assert _actions(stack.paths.database)[-1] == ("backup.restore", "failure", RESTORER.label)


def test_a_file_that_is_no_sound_outpost_database_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "data").ensure()
    paths.database.write_bytes(b"the current database")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RestoreRefused, match="integrity"):
        restore_database(paths, garbage, RESTORER)
    foreign = tmp_path / "foreign.db"
    with closing(sqlite3.connect(foreign)) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(RestoreRefused):
        check_restorable(foreign)
    assert paths.database.read_bytes() == b"the current database"
    assert list(paths.backups.iterdir()) == []
    assert not paths.restore_marker.exists()
