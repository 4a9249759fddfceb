"""The one Huey instance (SqliteHuey on queue.db; RedisHuey in server mode) and its consumer."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import Result, TaskWrapper
from huey.consumer import Consumer
from huey.exceptions import HueyException

from backend.datadir import FILE_MODE
from backend.jobs.tasks import TASKS
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.jobs.kinds import JobKind

ROUND_TRIP_TIMEOUT_S = 10.0
RUN_JOB = "run_job"
# Huey's workers poll an empty queue ever more slowly, up to 10 s by default: a job submitted to an idle
# backend would wait that long to start. Polling queue.db every 0.2 s costs next to nothing.
POLL_MAX_DELAY_S = 0.2


class InProcessConsumer(Consumer):
    """Huey's consumer run inside another program: workers and scheduler, no signal handlers.

    Consumer.start() installs signal handlers, which only the main thread may do and which
    would take SIGTERM away from the host process.
    """

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """Tasks enqueued by name into queue.db (or server mode's Redis); a consumer runs them when started."""

    def __init__(
        self, path: Path | None, *, workers: int = 2, redis_url: str | None = None, namespace: str = ""
    ) -> None:
        """The queue in the file at path, or with redis_url the one every instance and worker of a deployment
        shares (namespace: the deployment's own part of the queue's keys)."""
        self.path = path
        self.workers = workers
        # Tasks are registered here rather than with decorators at import time: the instance needs
        # the data dir (or the Redis), which is known only once settings are.
        self.huey: Huey
        if redis_url:
            self.huey = RedisHuey(f"outpost-{namespace}", url=redis_url, results=True, utc=True)
        else:
            assert path is not None
            # SQLite would create the file with the umask's mode; the queue holds task arguments, so owner-only.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
            self.huey = SqliteHuey("outpost", filename=str(path), results=True, utc=True)
        self.tasks: dict[str, TaskWrapper] = {name: self.huey.task(name=name)(fn) for name, fn in TASKS.items()}
        self._consumer: InProcessConsumer | None = None

    def enqueue(self, name: str, *args: Any) -> Result:
        """Put one task on the queue; its result handle."""
        return self.tasks[name](*args)

    def register_job_runner(self, run: Callable[..., Any]) -> None:
        """The task every job runs as: run(job_id, task=the Huey task), with Huey's retries and backoff."""
        self.tasks[RUN_JOB] = self.huey.task(name=RUN_JOB, context=True)(run)

    def hand_over(self, job_id: str, kind: JobKind, delay_s: float = 0.0) -> None:
        """Give the job to the workers as a task with the job's id and its kind's attempts and backoff."""
        task = self.tasks[RUN_JOB].s(
            job_id,
            id=job_id,
            retries=max(0, kind.max_attempts - 1),
            retry_delay=kind.retry_delay_s,
            retry_backoff=kind.retry_backoff,
            delay=delay_s or None,
        )
        self.huey.enqueue(task)

    def revoke(self, job_id: str) -> None:
        """The job's task, if still queued, is skipped when its turn comes."""
        self.huey.revoke_by_id(job_id, revoke_once=True)

    def waiting_ids(self) -> set[str]:
        """The ids of every task queued or scheduled (a retry waiting for its time)."""
        return {task.id for task in (*self.huey.pending(), *self.huey.scheduled())}

    def flush(self) -> None:
        """Drop every queued and scheduled task, and stored results (their jobs belong to a replaced database)."""
        self.huey.flush()

    def pending(self) -> int:
        """How many tasks wait for a worker."""
        return int(self.huey.pending_count())

    def start_consumer(self, *, periodic: bool = False) -> None:
        """Run the workers (and with periodic, the scheduler of periodic tasks) on threads of this process."""
        if self._consumer is None:
            # Huey logs every task at INFO, and a task's exception with its traceback at ERROR; the jobs
            # runner logs each job's outcome in one line, and keeps the traceback in the jobs table for admins.
            logging.getLogger("huey").setLevel(logging.CRITICAL)
            self._consumer = InProcessConsumer(
                self.huey,
                workers=self.workers,
                worker_type="thread",
                periodic=periodic,
                initial_delay=0.05,
                max_delay=POLL_MAX_DELAY_S,
            )
            self._consumer.start()

    def stop_consumer(self) -> None:
        """Let running tasks finish, then stop the workers."""
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None

    def round_trip(self, timeout_s: float = ROUND_TRIP_TIMEOUT_S) -> None:
        """Enqueue an echo task and wait for a worker's answer; raises if none comes back."""
        token = secrets.token_hex(8)
        try:
            got = self.enqueue("echo", token).get(blocking=True, timeout=timeout_s)
        except HueyException:
            raise QueueError(f"no result within {timeout_s:g} s (is a consumer running?)") from None
        if got != token:
            raise QueueError(f"sent {token!r}, the worker answered {got!r}")

    def close(self) -> None:
        """Stop the consumer and release queue.db."""
        self.stop_consumer()
        self.huey.storage.close()


class QueueError(RuntimeError):
    """The job queue does not carry tasks through."""


def open_job_queue(settings: Settings, namespace: str, *, workers: int = 2) -> JobQueue:
    """The deployment's queue: in queue.db, or server mode's Redis when settings name one."""
    return JobQueue(settings.paths.queue, workers=workers, redis_url=settings.redis_url, namespace=namespace)
