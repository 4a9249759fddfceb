"""Readiness probes: each part the backend needs, checked and named."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import text

from backend.cache import Cache
from backend.db.engine import Database
from backend.jobs.queue import JobQueue

PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PartStatus:
    """Whether one part works, and if not, why."""

    ok: bool
    detail: str


class ReadinessService:
    """Checks the database, the job queue and the cache."""

    def __init__(self, db: Database, expected_revision: str, queue: JobQueue, cache: Cache) -> None:
        self.db = db
        self.expected_revision = expected_revision
        self.queue = queue
        self.cache = cache
        self._running: asyncio.Task[dict[str, PartStatus]] | None = None

    async def database(self) -> PartStatus:
        """The database answers and its schema is the one this program expects."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self.db.read() as session:
                revision = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except TimeoutError:
            return PartStatus(False, f"no answer within {PROBE_TIMEOUT_S:g} s")
        except Exception as exc:  # any driver failure means "not ready", never a 500
            return PartStatus(False, f"{type(exc).__name__}: {exc}")
        if revision != self.expected_revision:
            return PartStatus(False, f"schema at revision {revision}, expected {self.expected_revision}")
        return PartStatus(True, f"{await self.db.version()}, schema revision {revision}")

    async def job_queue(self) -> PartStatus:
        """The queue's store answers; says how many tasks wait."""
        return await _off_loop(lambda: f"{self.queue.pending()} pending")

    async def cache_store(self) -> PartStatus:
        """A value written to the cache reads back."""

        def probe() -> str:
            self.cache.round_trip()
            return "read back what it wrote"

        return await _off_loop(probe)

    async def check(self) -> dict[str, PartStatus]:
        """Every part's status by name; probes asked for while one runs share its answer.

        Each check writes to the cache and reads the queue on worker threads: thirty-two probes at once
        each ran their own, queued behind one another past the probe timeout, and a busy but healthy
        backend answered 503 (the bench's /ready row once saw 9 of them, and wrk timed out on 10 more).
        """
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._check_every_part())
        return await asyncio.shield(self._running)  # one caller hanging up does not cancel the others' check

    async def _check_every_part(self) -> dict[str, PartStatus]:
        database, queue, cache = await asyncio.gather(self.database(), self.job_queue(), self.cache_store())
        return {"database": database, "queue": queue, "cache": cache}


async def _off_loop(probe: Callable[[], str]) -> PartStatus:
    """Run a blocking probe on a worker thread, within the probe timeout; its detail or its failure."""
    try:
        with anyio.fail_after(PROBE_TIMEOUT_S):
            detail = await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
    except TimeoutError:
        return PartStatus(False, f"no answer within {PROBE_TIMEOUT_S:g} s")
    except Exception as exc:  # any failure means "not ready", never a 500
        return PartStatus(False, f"{type(exc).__name__}: {exc}")
    return PartStatus(True, detail)
