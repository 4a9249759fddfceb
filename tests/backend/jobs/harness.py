"""A real jobs stack on a temporary data dir: a migrated database (SQLite, or PostgreSQL where a test module runs
on both engines: see on_engine), SqliteHuey, its consumer, the runner, given kinds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from backend.datadir import DataDir
from backend.db.engine import Database
from backend.db.factory import open_database
from backend.db.paging import CursorCodec
from backend.jobs.kinds import JobKind
from backend.jobs.models import FINISHED
from backend.jobs.queue import JobQueue
from backend.jobs.runner import JobRunner, open_jobs
from backend.jobs.service import JobService, JobView
from backend.observability.audit import Actor, AuditTrail
from backend.records.data_plane import DataPlane
from backend.settings import Settings
from tests.postgres import migrated_settings

ADMIN = Actor("user", "u-1", "admin@example.org", "127.0.0.1")


@dataclass
class Jobs:
    """The parts a test drives."""

    service: JobService
    runner: JobRunner
    queue: JobQueue
    db: Database
    paths: DataDir

    async def wait_for(self, job_id: str, states: frozenset[str] = FINISHED, timeout_s: float = 30.0) -> JobView:
        """The job once it is in one of states (by default: finished); fails the test after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            view = await self.service.get(job_id)
            if view.state in states:
                return view
            assert time.monotonic() < deadline, f"job {job_id} still {view.state} ({view.message}) after {timeout_s} s"
            await asyncio.sleep(0.02)  # polling a condition, with a deadline


ENGINE: ContextVar[str] = ContextVar("jobs_harness_engine", default="sqlite")


@contextmanager
def on_engine(engine: str) -> Iterator[None]:
    """running_jobs within this block keeps its jobs table on engine ("sqlite" or "postgresql")."""
    token = ENGINE.set(engine)
    try:
        yield
    finally:
        ENGINE.reset(token)


@asynccontextmanager
async def running_jobs(root: Path, kinds: Mapping[str, JobKind], *, start: bool = True) -> AsyncIterator[Jobs]:
    """The jobs stack on root with those kinds; its consumer running unless start is False."""
    with migrated_settings(ENGINE.get(), root) as settings:
        async with _stack(settings, kinds, start=start) as jobs:
            yield jobs


@asynccontextmanager
async def _stack(settings: Settings, kinds: Mapping[str, JobKind], *, start: bool) -> AsyncIterator[Jobs]:
    paths = settings.paths
    db = open_database(settings)
    cursors = CursorCodec(b"k" * 32)
    audit = AuditTrail(db, b"a" * 32, paths.audit_anchor, cursors)
    data = await DataPlane.open(db, audit, cursors)
    queue = JobQueue(paths.queue)
    service, runner = open_jobs(asyncio.get_running_loop(), db, queue, data, audit, cursors, paths, kinds=kinds)
    jobs = Jobs(service, runner, queue, db, paths)
    try:
        if start:
            await runner.recover_at_start()
            queue.start_consumer()
        yield jobs
    finally:
        runner.stopping.set()
        await asyncio.to_thread(queue.stop_consumer)
        queue.close()
        await db.close()
