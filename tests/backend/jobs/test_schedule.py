"""Periodic jobs: due once per slot however often the scheduler asks; the clean-up removes only what is old."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from backend.db.types import utc_now
from backend.jobs.models import FAILED, SUCCEEDED, JobRow
from backend.jobs.schedule import Retention, due_jobs
from backend.jobs.tasks import JOB_KINDS
from tests.backend.jobs.harness import ADMIN, on_engine, running_jobs
from tests.postgres import ENGINES

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=ENGINES, autouse=True)
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs with its jobs table on SQLite and on PostgreSQL."""
    with on_engine(request.param):
        yield request.param


def test_a_backup_slot_starts_at_each_multiple_of_its_period_in_utc() -> None:
    every_6h = Retention(backup_interval_hours=6)
    moments = {hour: datetime(2026, 12, 7, hour, 30, tzinfo=UTC) for hour in range(24)}
    keys = {
        hour: next(due.dedupe_key for due in due_jobs(moment, every_6h) if due.kind == "backup")
        for hour, moment in moments.items()
    }
    assert len(set(keys.values())) == 4
    assert keys[0] == keys[5] != keys[6] == keys[11]
    assert [d.kind for d in due_jobs(datetime(2026, 12, 7, tzinfo=UTC), Retention(backup_interval_hours=0))] == [
        "cleanup"
    ]


async def test_asking_again_and_again_makes_one_job_per_slot(tmp_path: Path) -> None:
    async with running_jobs(tmp_path, JOB_KINDS, start=False) as jobs:
        for _ in range(3):  # the scheduler's every-minute ask, from worker threads, as Huey runs it
            await asyncio.to_thread(jobs.runner._schedule)
        page, _ = await jobs.service.page(limit=10)
        assert [job.kind for job in page] == ["backup"]  # nothing is old enough to clean up yet
        old = (jobs.paths.exports / "old.csv", time.time() - 40 * 86400)
        old[0].write_text("x")
        os.utime(old[0], (old[1], old[1]))
        for _ in range(3):
            await asyncio.to_thread(jobs.runner._schedule)
        page, _ = await jobs.service.page(limit=10)
    assert sorted(job.kind for job in page) == ["backup", "cleanup"]


async def test_the_clean_up_removes_old_jobs_and_files_and_keeps_what_is_in_use(tmp_path: Path) -> None:
    async with running_jobs(tmp_path, JOB_KINDS) as jobs:
        old = await jobs.service.submit(ADMIN, "wait", {"seconds": 0})
        recent = await jobs.service.submit(ADMIN, "wait", {"seconds": 0})
        failed_import = await jobs.service.submit(ADMIN, "wait", {"seconds": 0})
        for job in (old, recent, failed_import):
            await jobs.wait_for(job.id)
        long_ago = utc_now() - timedelta(days=40)
        await jobs.db.write_in_thread(
            lambda session: session.execute(update(JobRow).where(JobRow.id == old.id).values(finished_at=long_ago))
        )
        keep_upload = {"file": "kept-upload.csv"}
        await jobs.db.write_in_thread(
            lambda session: session.execute(
                update(JobRow)
                .where(JobRow.id == failed_import.id)
                .values(state=FAILED, finished_at=long_ago + timedelta(days=20), params=keep_upload)
            )
        )
        stale = [jobs.paths.exports / f"{old.id}.csv", jobs.paths.imports / "kept-upload.csv"]
        fresh = jobs.paths.exports / f"{recent.id}.csv"
        for path in [*stale, fresh]:
            path.write_text("x")
        ago = time.time() - 40 * 86400
        for path in stale:
            os.utime(path, (ago, ago))
        cleanup = await jobs.service.submit(ADMIN, "cleanup", {"keep_days": 30})
        done = await jobs.wait_for(cleanup.id)
        assert done.state == SUCCEEDED, done.error
        assert done.result == {"jobs": 1, "files": 1, "backups": 0}
        remaining = {job.id for job in (await jobs.service.page(limit=50))[0]}
    assert old.id not in remaining
    assert {recent.id, failed_import.id, cleanup.id} <= remaining
    assert not stale[0].exists()
    assert stale[1].exists()  # a failed import's upload stays for its retry while the job is kept
    assert fresh.exists()
