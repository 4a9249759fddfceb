"""What a kind of job is (its function, attempts, timeout, lock) and the context a running job gets."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as WriterBusy

from backend.datadir import DataDir
from backend.jobs.bridge import DataBridge, TaskServices
from backend.jobs.models import JobRow
from backend.jobs.schedule import Retention
from backend.observability.audit import Actor

T = TypeVar("T")
PROGRESS_EVERY_S = 0.5  # progress is written at most this often (and always at 100 %)


class JobCancelled(Exception):
    """Someone asked for the job to stop; it stopped between two chunks."""


class JobTimedOut(Exception):
    """The job ran past its kind's timeout; it stopped between two chunks."""


class WorkerStopping(Exception):
    """The server is stopping: the job stops at its next checkpoint and resumes at the next start."""


class JobFailed(Exception):
    """The job cannot succeed, and has something to show for it (an import's report of its bad rows)."""

    def __init__(self, message: str, result: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.result = dict(result)


class TransientJobError(Exception):
    """A failure worth another attempt (the job is retried with backoff while attempts are left)."""


# Failures that pass: the writer busy past its wait, SQLite's lock timeout, a hand-over cut short.
TRANSIENT: tuple[type[BaseException], ...] = (TransientJobError, WriterBusy, OperationalError, sqlite3.OperationalError)


@dataclass(frozen=True)
class JobKind:
    """One kind of job."""

    name: str
    run: Callable[[JobContext], Mapping[str, Any] | None]
    title: Callable[[Mapping[str, Any]], str]  # how the job is named to people ("Export of sites (CSV)")
    max_attempts: int = 3
    timeout_s: float = 3600.0
    retry_delay_s: float = 2.0  # before the second attempt; each later one waits retry_backoff times longer
    retry_backoff: float = 2.0
    # Jobs with equal lock keys never run at once (two restores, say).
    lock: Callable[[Mapping[str, Any]], str | None] = field(default=lambda params: None)
    file: JobFile | None = None  # the file it makes, if it makes one
    # What a succeeded job says it did, from its result ("imported 1,204 rows"), shown beside its state.
    summary: Callable[[Mapping[str, Any]], str] = field(default=lambda result: "done")


@dataclass(frozen=True)
class JobFile:
    """Where a kind of job leaves its file (result["file"] names it), and who may download it."""

    folder: Callable[[DataDir], Path]
    permission: Callable[[Mapping[str, Any]], str]


class JobContext:
    """What a running job's function gets: its params, the bridge to data, progress, and its checkpoints."""

    def __init__(
        self,
        job_id: str,
        params: Mapping[str, Any],
        bridge: DataBridge,
        *,
        actor: Actor,
        timeout_s: float,
        stopping: threading.Event | None = None,
    ) -> None:
        self.job_id = job_id
        self.actor = actor  # who submitted the job: its writes are theirs
        self.stopping = stopping or threading.Event()
        self.params = params
        self.bridge = bridge
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self._last_progress = 0.0

    @property
    def paths(self) -> DataDir:
        """The data directory's layout (where exports and backups go)."""
        return self.bridge.paths

    @property
    def retention(self) -> Retention:
        """How many backups, and how many days of jobs and their files, are kept."""
        return self.bridge.retention

    def run(self, work: Callable[[TaskServices], Awaitable[T]]) -> T:
        """work(services) where the database lives (writes go through the one writer); its result."""
        return self.bridge.run(work)

    def read(self, work: Callable[[Connection], T]) -> T:
        """work(connection) on a read-only connection of this thread; its result."""
        return self.bridge.read(work)

    def checkpoint(self) -> None:
        """Between two chunks: stop here if the job was cancelled, ran out of time, or the server is stopping."""
        if self.stopping.is_set():
            raise WorkerStopping("the backend is stopping")
        if time.monotonic() > self.deadline:
            raise JobTimedOut(f"timed out: it ran longer than {self.timeout_s:g} s")
        query = select(JobRow.cancel_requested).where(JobRow.id == self.job_id)
        if self.read(lambda connection: connection.execute(query).scalar()):
            raise JobCancelled("cancelled")

    def progress(self, done: int, total: int | None, message: str) -> None:
        """Say how far the job is (done of total); written at most every PROGRESS_EVERY_S. Then a checkpoint."""
        percent = 100 if not total else min(100, done * 100 // total)
        now = time.monotonic()
        if percent == 100 or now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            self.run(lambda services: services.jobs.report_progress(self.job_id, percent, message))
        self.checkpoint()
