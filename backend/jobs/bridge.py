"""How a task reaches data: one bridge from a worker thread to the services that own the database.

Huey runs tasks on worker threads; the Database and its one writer (DESIGN rule 5) belong to the server's
event loop. A task never opens a connection of its own to write: it hands a coroutine over the bridge and
waits for it. Embedded, that coroutine runs on the server's loop (LoopBridge); a separate worker process on
PostgreSQL (server mode, later) will run it on a loop of its own with its own services, behind this same
interface. Reads that scan (an export) run on the calling thread, on a read-only connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import Connection

from backend.datadir import DataDir
from backend.db.engine import Database
from backend.jobs.schedule import Retention
from backend.observability.audit import AuditTrail
from backend.records.data_plane import DataPlane

if TYPE_CHECKING:
    from backend.jobs.service import JobService

T = TypeVar("T")
BRIDGE_WAIT_S = 600.0  # a hand-over that takes longer than this means the loop is gone or stuck


@dataclass(frozen=True)
class TaskServices:
    """What a task may use, always through a bridge."""

    db: Database
    data: DataPlane
    jobs: JobService
    audit: AuditTrail
    paths: DataDir
    retention: Retention


class DataBridge(Protocol):
    """The one way a task touches data."""

    @property
    def paths(self) -> DataDir:
        """The data directory's layout."""
        ...

    @property
    def retention(self) -> Retention:
        """How much of what jobs make is kept."""
        ...

    def run(self, work: Callable[[TaskServices], Awaitable[T]]) -> T:
        """work(services) carried out where the database lives; its result (its exception raised here)."""
        ...

    def read(self, work: Callable[[Connection], T]) -> T:
        """work(connection) on a read-only connection, in one snapshot, on this thread; its result."""
        ...


class BridgeClosed(RuntimeError):
    """The server that owns the data is stopping: no more work is taken over the bridge."""


class LoopBridge:
    """Embedded: coroutines run on the server's event loop, reads on the task's own thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, services: TaskServices) -> None:
        self.loop = loop
        self.services = services

    @property
    def paths(self) -> DataDir:
        return self.services.paths

    @property
    def retention(self) -> Retention:
        return self.services.retention

    def run(self, work: Callable[[TaskServices], Awaitable[T]]) -> T:
        if self.loop.is_closed():
            raise BridgeClosed("the server's event loop is closed")
        if _on_loop_thread(self.loop):  # waiting here would wait on ourselves
            raise RuntimeError("LoopBridge.run is for worker threads, not the event loop's own")
        future = asyncio.run_coroutine_threadsafe(_call(work, self.services), self.loop)
        return future.result(BRIDGE_WAIT_S)

    def read(self, work: Callable[[Connection], T]) -> T:
        return self.services.db.read_here(work)


async def _call(work: Callable[[TaskServices], Awaitable[T]], services: TaskServices) -> T:
    return await work(services)


def _on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    thread_id = getattr(loop, "_thread_id", None)  # set by asyncio while the loop runs
    return thread_id is not None and thread_id == threading.get_ident()
