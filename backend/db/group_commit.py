"""Group commit: writes queued for the one writer share one transaction, so one COMMIT (one fsync) serves them all.

A write is a synchronous function of a Session, run on the writer connection's own thread (one trip, not a
round trip through the event loop per statement). The first write to arrive starts a flush; every write
that arrives while a group runs waits for the next group. A group is one BEGIN IMMEDIATE ... COMMIT, each
write inside its own SAVEPOINT: a write that raises rolls back only its savepoint and gets its exception;
a COMMIT that fails fails every write of the group. A write's caller hears back only after its group's
COMMIT returned, so a 2xx is never sent for a write that is not durable.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import TimeoutError as WriterBusy
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from backend.db.sqlite import take_over_begin

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[Session], T]
_AFTER_COMMIT = "outpost.after_commit"  # the key, in a grouped write's session.info, of its after-commit calls


TOUCHED = "outpost.touched"  # the key, in a session's info, of the tags its writes changed (see touch)


def touch(session: Session | AsyncSession, tag: str) -> None:
    """Note that session's writes change the data behind tag (a collection's name, say).

    Once they are committed, Database tells its after_commit listeners (the cache moves those tags'
    generations), before any caller is answered.
    """
    session.info.setdefault(TOUCHED, set()).add(tag)


def after_commit(session: Session, call: Callable[[], None]) -> None:
    """Call call once session's writes are committed: after its group's COMMIT, or the session's own commit.

    A grouped write's session "commits" at its RELEASE SAVEPOINT, before the group's COMMIT, so SQLAlchemy's
    after_commit event would fire too early there (and for a write whose group then fails to commit).
    """
    deferred = session.info.get(_AFTER_COMMIT)
    if deferred is not None:
        deferred.append(call)
    else:
        event.listen(session, "after_commit", lambda _session: call(), once=True)


@dataclass
class _Write(Generic[T]):
    """One write waiting for (or running in) a group."""

    work: Work[T]
    context: contextvars.Context  # the caller's context variables (its request id) for the work
    future: asyncio.Future[T]
    deadline: float  # loop time past which it is refused busy rather than started
    result: Any = None
    error: BaseException | None = None
    committed: list[Callable[[], None]] = field(default_factory=list)
    touched: frozenset[str] = frozenset()  # the tags its writes changed (see touch)


class GroupCommit:
    """The queue of writes for the writer connection of one async engine, flushed in groups."""

    def __init__(
        self,
        writer_engine: AsyncEngine,
        *,
        begin: str,
        wait_s: float,
        on_commit: Callable[[frozenset[str]], None] = lambda touched: None,
    ) -> None:
        self.writer_engine = writer_engine
        self.on_commit = on_commit  # told the tags a committed group touched, on the writer's thread
        self.begin = begin
        self.wait_s = wait_s
        self._queue: list[_Write[Any]] = []
        self._flusher: asyncio.Task[None] | None = None
        # The writer's sqlite3 connection, seen from its own thread as a synchronous engine.
        self._in_thread: tuple[sqlite3.Connection, Engine] | None = None
        self.groups = 0  # groups committed or tried, for tests and benchmarks
        self.writes = 0

    async def run(self, work: Work[T]) -> T:
        """work(session) committed in the next group; its result, or the exception it (or the COMMIT) raised."""
        loop = asyncio.get_running_loop()
        write: _Write[T] = _Write(work, contextvars.copy_context(), loop.create_future(), loop.time() + self.wait_s)
        self._queue.append(write)
        if self._flusher is None:
            # A context of its own: the flusher serves every caller, not the one that happened to start it.
            self._flusher = loop.create_task(self._flush(), context=contextvars.Context())
        return await write.future

    async def drain(self) -> None:
        """Wait until every queued write has been carried out."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                await self._run_group([write for write in group if not write.future.done()])  # cancelled: skipped
        except BaseException:  # cancelled (shutting down): what still waits will not be run
            for write in self._queue:
                write.future.cancel()
            self._queue = []
            raise
        finally:
            self._flusher = None

    async def _run_group(self, group: list[_Write[Any]]) -> None:
        if not group:
            return
        try:
            async with self.writer_engine.connect() as connection:  # waits for other writers, up to wait_s
                now = asyncio.get_running_loop().time()
                for write in group:
                    if write.deadline < now:
                        write.error = WriterBusy(f"the write waited more than {self.wait_s} s for the writer")
                ready = [write for write in group if write.error is None]
                if ready:
                    driver = (await connection.get_raw_connection()).driver_connection  # the aiosqlite.Connection
                    assert driver is not None
                    # aiosqlite has no public way to run a function on its thread; _execute is what its methods use.
                    await driver._execute(self._commit_group, driver._conn, ready)
        except Exception as exc:  # the pool's wait, the COMMIT, the connection: the whole group failed
            for write in group:
                write.error = write.error or exc  # a write that failed on its own keeps its own reason
        except BaseException:  # cancelled (shutting down): nobody hears back about this group
            for write in group:
                write.future.cancel()
            raise
        for write in group:
            if write.future.done():  # its caller gave up waiting; the write stands or fell all the same
                continue
            if write.error is not None:
                write.future.set_exception(write.error)
            else:
                write.future.set_result(write.result)

    def _engine_for(self, dbapi_connection: sqlite3.Connection) -> Engine:
        if self._in_thread is None or self._in_thread[0] is not dbapi_connection:
            engine = create_engine(
                "sqlite://", creator=lambda: dbapi_connection, poolclass=StaticPool, hide_parameters=True
            )
            take_over_begin(engine, self.begin)  # the pragmas are the writer's already: same connection
            # SQLAlchemy compiles a SAVEPOINT clause for each new savepoint name, and every write of a group
            # takes one: sent straight to the driver they cost a few microseconds, not a compile and an
            # execution context each (a third of a record create's time on this thread went there).
            dialect: Any = engine.dialect
            dialect.do_savepoint = lambda connection, name: dbapi_connection.execute(f"SAVEPOINT {name}")
            dialect.do_release_savepoint = lambda connection, name: dbapi_connection.execute(f"RELEASE {name}")
            dialect.do_rollback_to_savepoint = lambda connection, name: dbapi_connection.execute(f"ROLLBACK TO {name}")
            self._in_thread = (dbapi_connection, engine)
        return self._in_thread[1]

    def _commit_group(self, dbapi_connection: sqlite3.Connection, group: list[_Write[Any]]) -> None:
        """On the writer's thread: every write in a savepoint of one transaction, then one COMMIT."""
        self.groups += 1
        self.writes += len(group)
        with self._engine_for(dbapi_connection).connect() as connection:
            transaction = connection.begin()
            try:
                for write in group:
                    self._run_one(connection, write)
                    if not dbapi_connection.in_transaction:
                        # SQLite rolls the whole transaction back on some errors (disk full, I/O): what the
                        # earlier writes of the group did is gone, so none of them may be acknowledged.
                        raise RuntimeError("SQLite ended the writer's transaction (see the error of a write)")
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
        try:
            self.on_commit(frozenset().union(*(write.touched for write in group)))
        except Exception:  # the writes are committed: their replies must say so
            log.exception("the after-commit listeners failed")
        for write in group:
            for call in write.committed:
                try:
                    write.context.run(call)
                except Exception:  # the write is committed: its reply must say so
                    log.exception("an after-commit call failed")

    def _run_one(self, connection: Any, write: _Write[Any]) -> None:
        deferred: list[Callable[[], None]] = []
        try:
            session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
            session.info[_AFTER_COMMIT] = deferred
            with session, session.begin():  # SAVEPOINT ... RELEASE, or ROLLBACK TO on an exception
                write.result = write.context.run(write.work, session)
            write.committed = deferred
            write.touched = frozenset(session.info.get(TOUCHED, ()))
        except Exception as exc:
            write.error = exc

    def forget_connection(self) -> None:
        """Drop the engine that borrows the writer's connection (which is being closed)."""
        self._in_thread = None
