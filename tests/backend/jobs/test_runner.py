"""The job lifecycle on real workers: success, retry with backoff, permanent failure, timeout, cancel, locks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backend.db.types import utc_now
from backend.errors import Conflict
from backend.jobs.kinds import JobContext, JobKind, TransientJobError
from backend.jobs.models import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, JobRow
from tests.backend.jobs.harness import ADMIN, Jobs, on_engine, running_jobs
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


def _title(params: Mapping[str, Any]) -> str:
    return "test job"


class Flaky:
    """Fails transiently until its nth attempt, then succeeds; remembers when each attempt began."""

    def __init__(self, succeed_on: int) -> None:
        self.succeed_on = succeed_on
        self.started: list[float] = []

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        self.started.append(time.monotonic())
        if len(self.started) < self.succeed_on:
            raise TransientJobError(f"attempt {len(self.started)} hit a passing fault")
        return {"attempts_seen": len(self.started)}


def _spinning(ctx: JobContext) -> None:
    """Works in chunks forever, checking in between: only a cancel or its timeout ends it."""
    pause = threading.Event()
    done = 0
    while True:
        pause.wait(0.01)
        done += 1
        ctx.progress(done, None if done < 10 else done * 2, "spinning")


def _broken(ctx: JobContext) -> None:
    raise ValueError("the params name a column that does not exist")


async def test_a_job_runs_to_success_with_its_result_and_progress(tmp_path: Path, engine: str) -> None:
    def work(ctx: JobContext) -> dict[str, Any]:
        for step in range(1, 6):
            ctx.progress(step, 5, f"step {step}")
        return {"sum": sum(ctx.params["numbers"])}

    kinds = {"sum": JobKind("sum", work, title=_title)}
    async with running_jobs(tmp_path, kinds) as jobs:
        assert jobs.db.engine_name == engine  # the engine this run is on
        submitted = await jobs.service.submit(ADMIN, "sum", {"numbers": [1, 2, 3]})
        assert submitted.state == QUEUED
        done = await jobs.wait_for(submitted.id)
        assert jobs.queue.huey.result_count() == 0  # the outcome lives in the jobs table, not in queue.db
    assert (done.state, done.progress, done.result, done.attempts) == (SUCCEEDED, 100, {"sum": 6}, 1)
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.lease_owner is None
    assert done.created_by == ADMIN.label


async def test_a_transient_failure_is_retried_with_growing_delays(tmp_path: Path) -> None:
    flaky = Flaky(succeed_on=3)
    kinds = {"flaky": JobKind("flaky", flaky, title=_title, max_attempts=3, retry_delay_s=0.3, retry_backoff=3.0)}
    async with running_jobs(tmp_path, kinds) as jobs:
        job = await jobs.service.submit(ADMIN, "flaky", {})
        done = await jobs.wait_for(job.id)
    assert (done.state, done.attempts, done.result) == (SUCCEEDED, 3, {"attempts_seen": 3})
    first_wait, second_wait = (b - a for a, b in zip(flaky.started, flaky.started[1:], strict=False))
    assert first_wait >= 0.3
    assert second_wait >= 0.9


async def test_a_job_out_of_attempts_fails_with_the_last_error(tmp_path: Path) -> None:
    kinds = {"flaky": JobKind("flaky", Flaky(succeed_on=9), title=_title, max_attempts=2, retry_delay_s=0.05)}
    async with running_jobs(tmp_path, kinds) as jobs:
        done = await jobs.wait_for((await jobs.service.submit(ADMIN, "flaky", {})).id)
    assert (done.state, done.attempts) == (FAILED, 2)
    assert done.error == "attempt 2 hit a passing fault"
    assert done.error_detail is not None
    assert "TransientJobError" in done.error_detail


async def test_a_permanent_failure_is_not_retried(tmp_path: Path) -> None:
    kinds = {"broken": JobKind("broken", _broken, title=_title, max_attempts=5, retry_delay_s=0.05)}
    async with running_jobs(tmp_path, kinds) as jobs:
        done = await jobs.wait_for((await jobs.service.submit(ADMIN, "broken", {})).id)
    assert (done.state, done.attempts) == (FAILED, 1)
    assert done.error == "the params name a column that does not exist"


async def test_a_job_past_its_timeout_fails_saying_so(tmp_path: Path) -> None:
    kinds = {"spin": JobKind("spin", _spinning, title=_title, timeout_s=0.3)}
    async with running_jobs(tmp_path, kinds) as jobs:
        done = await jobs.wait_for((await jobs.service.submit(ADMIN, "spin", {})).id)
    assert (done.state, done.attempts) == (FAILED, 1)
    assert done.error is not None
    assert done.error.startswith("timed out")


async def test_cancelling_a_running_job_stops_it_between_chunks(tmp_path: Path) -> None:
    kinds = {"spin": JobKind("spin", _spinning, title=_title)}
    async with running_jobs(tmp_path, kinds) as jobs:
        job = await jobs.service.submit(ADMIN, "spin", {})
        await jobs.wait_for(job.id, frozenset({RUNNING}))
        asked = await jobs.service.cancel(ADMIN, job.id)
        assert asked.cancel_requested
        assert asked.state == RUNNING
        done = await jobs.wait_for(job.id)
        assert done.state == CANCELLED
        assert done.finished_at is not None
        with pytest.raises(Conflict):
            await jobs.service.cancel(ADMIN, job.id)


async def test_a_cancelled_queued_job_never_runs(tmp_path: Path) -> None:
    ran: list[str] = []
    kinds = {"mark": JobKind("mark", lambda ctx: ran.append(ctx.job_id), title=_title)}
    async with running_jobs(tmp_path, kinds, start=False) as jobs:
        job = await jobs.service.submit(ADMIN, "mark", {})
        assert (await jobs.service.cancel(ADMIN, job.id)).state == CANCELLED
        after = await jobs.service.submit(ADMIN, "mark", {})  # queued behind the cancelled one
        jobs.queue.start_consumer()
        assert (await jobs.wait_for(after.id)).state == SUCCEEDED
        assert (await jobs.service.get(job.id)).state == CANCELLED
    assert ran == [after.id]


async def _orphan(jobs: Jobs, kind: str, attempts: int) -> str:
    """A job left running by a worker that died a minute ago (its heartbeat stopped then)."""
    job = await jobs.service.submit(ADMIN, kind, {})
    await jobs.wait_for(job.id)  # it ran once; now make it look as if a dead worker still held it
    stale = utc_now() - timedelta(seconds=60)
    statement = (
        update(JobRow)
        .where(JobRow.id == job.id)
        .values(state=RUNNING, attempts=attempts, lease_owner="gone:1:abc", heartbeat_at=stale, finished_at=None)
    )
    await jobs.db.write_in_thread(lambda session: session.execute(statement))
    return job.id


async def test_a_job_whose_worker_died_is_retried_while_attempts_are_left(tmp_path: Path) -> None:
    kinds = {"mark": JobKind("mark", lambda ctx: {"ok": True}, title=_title, max_attempts=3)}
    async with running_jobs(tmp_path, kinds) as jobs:
        orphan = await _orphan(jobs, "mark", attempts=1)
        assert await jobs.service.recover(worker=jobs.runner.worker, others_dead=False) == [orphan]
        done = await jobs.wait_for(orphan)
    assert (done.state, done.attempts, done.result) == (SUCCEEDED, 2, {"ok": True})


async def test_a_job_whose_worker_died_on_its_last_attempt_fails_saying_why(tmp_path: Path) -> None:
    kinds = {"mark": JobKind("mark", lambda ctx: None, title=_title, max_attempts=2)}
    async with running_jobs(tmp_path, kinds) as jobs:
        orphan = await _orphan(jobs, "mark", attempts=2)
        assert await jobs.service.recover(worker=jobs.runner.worker, others_dead=False) == []
        done = await jobs.service.get(orphan)
    assert done.state == FAILED
    assert done.error == "its worker (gone:1:abc) stopped during attempt 2, its last attempt"


async def test_a_live_workers_job_is_left_alone(tmp_path: Path) -> None:
    kinds = {"spin": JobKind("spin", _spinning, title=_title)}
    async with running_jobs(tmp_path, kinds) as jobs:
        job = await jobs.service.submit(ADMIN, "spin", {})
        await jobs.wait_for(job.id, frozenset({RUNNING}))
        assert await jobs.service.recover(worker="another-worker", others_dead=False) == []
        assert (await jobs.service.get(job.id)).state == RUNNING
        await jobs.service.cancel(ADMIN, job.id)
        assert (await jobs.wait_for(job.id)).state == CANCELLED


async def test_retrying_a_failed_job_runs_a_new_one_with_the_same_params(tmp_path: Path) -> None:
    outcomes = iter([ValueError("first run breaks"), None])

    def once_broken(ctx: JobContext) -> dict[str, Any]:
        problem = next(outcomes)
        if problem:
            raise problem
        return dict(ctx.params)

    kinds = {"once": JobKind("once", once_broken, title=_title)}
    async with running_jobs(tmp_path, kinds) as jobs:
        failed = await jobs.wait_for((await jobs.service.submit(ADMIN, "once", {"n": 7})).id)
        assert failed.state == FAILED
        again = await jobs.service.retry(ADMIN, failed.id)
        assert again.id != failed.id
        assert again.retry_of == failed.id
        done = await jobs.wait_for(again.id)
        assert (done.state, done.result) == (SUCCEEDED, {"n": 7})
        with pytest.raises(Conflict):
            await jobs.service.retry(ADMIN, done.id)


async def test_jobs_sharing_a_lock_never_overlap(tmp_path: Path) -> None:
    spans: list[tuple[str, str]] = []
    lock = threading.Lock()

    def exclusive(ctx: JobContext) -> None:
        with lock:
            spans.append(("start", ctx.job_id))
        pause = threading.Event()
        for step in range(5):
            pause.wait(0.02)
            ctx.progress(step, 5, "holding the lock")
        with lock:
            spans.append(("end", ctx.job_id))

    kinds = {"restore": JobKind("restore", exclusive, title=_title, lock=lambda params: "database-file")}
    async with running_jobs(tmp_path, kinds) as jobs:
        submitted = [await jobs.service.submit(ADMIN, "restore", {}) for _ in range(3)]
        finished = [await jobs.wait_for(job.id) for job in submitted]
    assert all(job.state == SUCCEEDED and job.attempts == 1 for job in finished)
    # Each start is followed by its own end before any other start.
    for index in range(0, len(spans), 2):
        assert spans[index][0] == "start"
        assert spans[index + 1] == ("end", spans[index][1])


async def test_a_scheduled_slot_makes_one_job_however_often_it_is_asked(tmp_path: Path) -> None:
    kinds = {"tick": JobKind("tick", lambda ctx: None, title=_title)}
    async with running_jobs(tmp_path, kinds, start=False) as jobs:
        made = {(await jobs.service.submit(ADMIN, "tick", {}, dedupe_key="tick:2026-12-07")).id for _ in range(4)}
        assert len(made) == 1
        page, _ = await jobs.service.page(limit=10)
        assert [job.id for job in page] == list(made)
