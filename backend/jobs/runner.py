"""Runs jobs on Huey's workers and keeps the jobs table current from Huey's hooks and signals.

Every job runs as one Huey task, `run_job(job_id)`, whose Huey id is the job's id. The task claims the
job (jobs table: running, attempt counted, lease taken), runs its kind's function with a JobContext, and
returns its result. What happens next is told by Huey, never by hand in a kind's code: the post-execute
hook records the outcome (succeeded, cancelled, failed, or an attempt that failed and will be retried),
the retrying signal says when the next attempt is due, and revoked, expired and interrupted tasks are
recorded as such. Transient failures are retried with Huey's backoff; any other ends the job at once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from huey import crontab, signals
from huey.api import Task
from huey.exceptions import RetryTask

from backend.datadir import DataDir
from backend.db.engine import Database
from backend.db.paging import CursorCodec
from backend.jobs.bridge import DataBridge, LoopBridge, TaskServices
from backend.jobs.kinds import TRANSIENT, JobCancelled, JobContext, JobFailed, JobKind, WorkerStopping
from backend.jobs.models import CANCELLED, FAILED, SUCCEEDED
from backend.jobs.queue import RUN_JOB, JobQueue
from backend.jobs.schedule import Retention, due_jobs
from backend.jobs.service import LEASE_S, JobService, LockBusy
from backend.jobs.tasks import JOB_KINDS
from backend.observability.audit import Actor, AuditTrail
from backend.records.data_plane import DataPlane

log = structlog.get_logger("outpost.jobs")
LOCK_WAIT_S = 2.0  # a job waiting for a lock looks again after this
# Running jobs are marked alive HEARTBEATS_PER_LEASE times a lease; dead workers' jobs are looked for twice.
HEARTBEATS_PER_LEASE = 6
SWEEPS_PER_LEASE = 2
SCHEDULER = Actor("system", None, "scheduler")
_SKIPPED = object()  # run_job's answer for a job not to run (finished or cancelled before its turn)


def worker_name() -> str:
    """This process's name as a job's lease holder: host, pid and a random part (a pid can be reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """Huey's side of the jobs table, for one process's workers."""

    def __init__(self, queue: JobQueue, jobs: JobService, kinds: Mapping[str, JobKind], bridge: DataBridge) -> None:
        self.queue = queue
        self.jobs = jobs
        self.kinds = kinds
        self.bridge = bridge
        self.worker = worker_name()
        self.stopping = threading.Event()
        queue.register_job_runner(self._run_job)
        huey = queue.huey
        huey.post_execute(name="outpost-job-outcome")(self._outcome)
        huey.signal(signals.SIGNAL_REVOKED, signals.SIGNAL_EXPIRED)(self._not_run)
        huey.signal(signals.SIGNAL_INTERRUPTED)(self._interrupted)
        # Run only by a consumer started with its scheduler (the serving backend's), every minute.
        huey.periodic_task(crontab(minute="*"), name="outpost-schedule")(self._schedule)

    async def recover_at_start(self, *, sole_worker: bool = True) -> None:
        """At start: jobs a dead process left running, and queued jobs the queue lost, go to the workers.

        sole_worker (embedded): the data dir's lock proves no other process runs, so every other lease holder
        is dead. In server mode other instances run: only leases that ran out are taken back. A queued job
        handed over twice is claimed once (claim skips a job another worker holds).
        """
        again = await self.jobs.recover(worker=self.worker, others_dead=sole_worker)
        if again:
            log.warning("jobs left running by a stopped backend are queued again", jobs=again)
        waiting = await asyncio.to_thread(self.queue.waiting_ids)
        lost = [job_id for job_id in await self.jobs.queued_ids() if job_id not in waiting]
        await self.jobs.requeue(lost)

    async def keep_leases(self) -> None:
        """Forever: mark this process's running jobs alive, and recover the jobs of workers that died."""
        since_sweep = 0.0
        heartbeat_s, sweep_s = self.jobs.lease_s / HEARTBEATS_PER_LEASE, self.jobs.lease_s / SWEEPS_PER_LEASE
        while True:
            await asyncio.sleep(heartbeat_s)
            try:
                await self.jobs.heartbeat(self.worker)
                since_sweep += heartbeat_s
                if since_sweep >= sweep_s:
                    since_sweep = 0.0
                    await self.jobs.recover(worker=self.worker, others_dead=False)
            except Exception:  # a busy writer or a full disk: try again next beat, never stop beating
                log.exception("job heartbeat failed")

    def _schedule(self) -> None:
        """Submit the periodic jobs due now: one per slot, whoever else asks (see schedule.py)."""
        retention = self.bridge.retention
        for due in due_jobs(datetime.now(UTC), retention):
            if due.kind == "cleanup" and not self._anything_to_clean(retention):
                continue  # a clean-up with nothing to do would only fill the jobs list
            if due.kind in self.kinds:
                self.bridge.run(
                    lambda services, due=due: services.jobs.submit(
                        SCHEDULER, due.kind, due.params, dedupe_key=due.dedupe_key
                    )
                )

    def _anything_to_clean(self, retention: Retention) -> bool:
        """Whether a clean-up would remove anything: an old finished job or file, a backup past the kept ones."""
        before = datetime.now(UTC) - timedelta(days=retention.jobs_keep_days)
        if self.bridge.run(lambda services: services.jobs.finished_before(before)):
            return True
        paths, stamp = self.bridge.paths, before.timestamp()
        for folder in (paths.exports, paths.imports):
            if folder.is_dir() and any(path.stat().st_mtime < stamp for path in folder.iterdir() if path.is_file()):
                return True
        return paths.backups.is_dir() and len(list(paths.backups.glob("backup-*.db"))) > retention.backup_keep

    # The task ----------------------------------------------------------------------------------------------------

    def _run_job(self, job_id: str, task: Task) -> Any:
        try:
            claim = self.bridge.run(lambda services: services.jobs.claim(job_id, self.worker))
        except LockBusy:
            raise RetryTask(delay=LOCK_WAIT_S) from None  # not an attempt: Huey adds back the retry it takes
        if claim is None:
            task.retries = 0
            task.job_outcome = _SKIPPED
            return None
        kind = self.kinds[claim.kind]
        context = JobContext(
            job_id, claim.params, self.bridge, actor=claim.actor, timeout_s=kind.timeout_s, stopping=self.stopping
        )
        try:
            context.checkpoint()
            # Kept on the task for the post-execute hook, not returned: Huey would store a returned value in
            # queue.db, and nothing reads it there (the jobs table holds the outcome).
            task.job_outcome = dict(kind.run(context) or {})
            return None
        except TRANSIENT:
            raise  # Huey retries it while retries are left
        except BaseException:
            task.retries = 0  # anything else ends the job now: another attempt would fail the same way
            raise

    # Huey's hooks and signals ------------------------------------------------------------------------------------

    def _outcome(self, task: Task, value: Any, exc: BaseException | None) -> None:
        if task.name != RUN_JOB or isinstance(exc, RetryTask):
            return
        if exc is not None:  # Huey keeps a task's final error in queue.db until read; nothing would read it
            self.queue.huey.delete(task.id)
        value = getattr(task, "job_outcome", None)
        if value is _SKIPPED:
            return
        job_id = task.id
        _log_outcome(job_id, exc, will_retry=bool(exc is not None and task.retries))
        if exc is None:
            self._record(lambda jobs: jobs.finish(job_id, SUCCEEDED, result=value))
        elif isinstance(exc, JobCancelled):
            self._record(lambda jobs: jobs.finish(job_id, CANCELLED, message="cancelled while running"))
        elif isinstance(exc, WorkerStopping):
            self._record(lambda jobs: jobs.paused(job_id))
        elif isinstance(exc, JobFailed):
            error, result = _said(exc), exc.result
            self._record(lambda jobs: jobs.finish(job_id, FAILED, error=error, result=result))
        else:
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if task.retries:  # Huey queues another attempt after task.retry_delay (then multiplies it by the backoff)
                delay_s = float(task.retry_delay or 0)
                self._record(lambda jobs: jobs.will_retry(job_id, _said(exc), detail, delay_s))
            else:
                self._record(lambda jobs: jobs.finish(job_id, FAILED, error=_said(exc), detail=detail))

    def _not_run(self, signal: str, task: Task, *args: Any) -> None:
        if task.name == RUN_JOB:
            self._record(lambda jobs: jobs.finish(task.id, CANCELLED, message=f"not run: {signal}"))

    def _interrupted(self, signal: str, task: Task, *args: Any) -> None:
        # The consumer stopped under the task: it stays running until recovery at the next start retries it.
        if task.name == RUN_JOB:
            log.warning("job interrupted by the worker's stop", job=task.id)

    def _record(self, change: Any) -> None:
        try:
            self.bridge.run(lambda services: change(services.jobs))
        except Exception:  # recorded by the lease sweep at the latest; a hook must never take a worker down
            log.exception("could not record a job's outcome")


def _log_outcome(job_id: str, exc: BaseException | None, *, will_retry: bool) -> None:
    """One line per attempt's end; the traceback stays in the jobs table (error_detail), never in the log."""
    if exc is None:
        log.info("job succeeded", job=job_id)
    elif isinstance(exc, JobCancelled | WorkerStopping):
        log.info("job stopped", job=job_id, reason=_said(exc))
    else:
        outcome = "job attempt failed, retrying" if will_retry else "job failed"
        log.warning(outcome, job=job_id, error=type(exc).__name__)


def _said(exc: BaseException) -> str:
    """What went wrong, in one line a person can read."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def open_jobs(
    loop: asyncio.AbstractEventLoop,
    db: Database,
    queue: JobQueue,
    data: DataPlane,
    audit: AuditTrail,
    cursors: CursorCodec,
    paths: DataDir,
    kinds: Mapping[str, JobKind] = JOB_KINDS,
    retention: Retention | None = None,
    lease_s: float = LEASE_S,
) -> tuple[JobService, JobRunner]:
    """The jobs service and the runner of this process's workers, wired to the queue and the data."""
    jobs = JobService(db, audit, cursors, kinds, enqueue=queue.hand_over, revoke=queue.revoke, lease_s=lease_s)
    retention = retention or Retention()
    services = TaskServices(db=db, data=data, jobs=jobs, audit=audit, paths=paths, retention=retention)
    return jobs, JobRunner(queue, jobs, kinds, LoopBridge(loop, services))
