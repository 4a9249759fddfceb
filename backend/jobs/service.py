"""Jobs: submitted, listed, cancelled and retried by people; claimed, advanced and finished by workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.ids import new_id
from backend.db.locks import take_turn
from backend.db.paging import CursorCodec, SortKey, keyset_page_in
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, NotFound, ValidationFailed
from backend.jobs.kinds import JobKind
from backend.jobs.models import CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, STATES, SUCCEEDED, JobRow
from backend.observability.audit import Actor, AuditEntry, AuditTrail

# Statements built once, for the worker's side: an ORM load and flush of a job took ~1.8 ms of the writer's
# thread per claim, Core ~0.2 ms, and every job is claimed and finished.
_JOBS = JobRow.__table__
_CLAIM_READ = select(
    *(_JOBS.c[name] for name in ("kind", "params", "state", "cancel_requested", "lock_key", "attempts")),
    *(_JOBS.c[name] for name in ("max_attempts", "started_at", "created_by_type", "created_by_id")),
    _JOBS.c.created_by_label,
    _JOBS.c.lease_owner,
).where(_JOBS.c.id == bindparam("job_id"))
# PostgreSQL: two workers claiming one job take turns on its row (SQLite's one writer needs no lock).
_CLAIM_READ = _CLAIM_READ.with_for_update()
_FINISH_READ = select(_JOBS.c.kind, _JOBS.c.state).where(_JOBS.c.id == bindparam("job_id"))
_INSERT = insert(_JOBS)
_UPDATE = update(_JOBS).where(_JOBS.c.id == bindparam("job_id"))  # SET: the columns the parameters name

JOB_ORDER = (SortKey(JobRow.created_at, descending=True), SortKey(JobRow.id, descending=True))
LEASE_S = 30.0  # a running job whose worker has not been heard from for this long is taken to be dead
MAX_ERROR_CHARS = 20_000

Enqueue = Callable[[str, JobKind, float], None]  # (job id, its kind, delay in seconds): hand it to the queue
Revoke = Callable[[str], None]  # a queued job's task is not to run


@dataclass(frozen=True)
class JobView:
    """A job as the API shows it."""

    id: str
    kind: str
    title: str
    params: dict[str, Any]
    state: str
    progress: int
    message: str
    attempts: int
    max_attempts: int
    error: str | None
    error_detail: str | None
    result: dict[str, Any] | None
    cancel_requested: bool
    retry_of: str | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    run_after: datetime | None
    lease_owner: str | None
    heartbeat_at: datetime | None


@dataclass(frozen=True)
class Claim:
    """A job a worker now holds: what to run."""

    id: str
    kind: str
    params: dict[str, Any]
    attempt: int
    actor: Actor  # who submitted it


class LockBusy(Exception):
    """Another job holding the same lock is running; this one waits."""

    def __init__(self, lock_key: str, holder: str) -> None:
        super().__init__(f"waiting: job {holder} holds {lock_key}")
        self.lock_key = lock_key
        self.holder = holder


class JobService:
    """The jobs table and what may happen to a job."""

    def __init__(
        self,
        db: Database,
        audit: AuditTrail,
        cursors: CursorCodec,
        kinds: Mapping[str, JobKind],
        enqueue: Enqueue,
        revoke: Revoke,
        lease_s: float = LEASE_S,
    ) -> None:
        self.db = db
        self.lease_s = lease_s  # a running job unheard of for this long has a dead worker
        self.audit = audit
        self.cursors = cursors
        self.kinds = kinds
        self.enqueue = enqueue
        self.revoke = revoke

    def kind(self, name: str) -> JobKind:
        """The kind of that name (ValidationFailed for an unknown one)."""
        found = self.kinds.get(name)
        if found is None:
            raise ValidationFailed(
                "Unknown job kind.", errors=[FieldError("kind", f"must be one of {', '.join(sorted(self.kinds))}")]
            )
        return found

    def view(self, row: JobRow) -> JobView:
        """row as the API shows it."""
        kind = self.kinds.get(row.kind)
        return JobView(
            id=row.id,
            kind=row.kind,
            title=kind.title(row.params) if kind else row.kind,
            params=row.params,
            state=row.state,
            progress=row.progress,
            message=row.message,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            error=row.error,
            error_detail=row.error_detail,
            result=row.result,
            cancel_requested=row.cancel_requested,
            retry_of=row.retry_of,
            created_at=row.created_at,
            created_by=row.created_by_label,
            started_at=row.started_at,
            finished_at=row.finished_at,
            run_after=row.run_after,
            lease_owner=row.lease_owner,
            heartbeat_at=row.heartbeat_at,
        )

    # People --------------------------------------------------------------------------------------------------

    async def submit(
        self,
        actor: Actor,
        kind_name: str,
        params: Mapping[str, Any],
        *,
        dedupe_key: str | None = None,
        retry_of: str | None = None,
    ) -> JobView:
        """A new queued job of that kind; it is handed to the queue once its row is committed. Audited.

        dedupe_key: a scheduled run's slot ("backup:2026-12-07"); a second submit of the same slot returns
        the job already made, so several schedulers asking at once make one job.
        """
        kind = self.kind(kind_name)
        lock_key = kind.lock(params)

        def work(session: Session) -> JobRow:
            row = JobRow(
                id=new_id(),
                kind=kind.name,
                params=dict(params),
                state=QUEUED,
                progress=0,
                message="waiting for a worker",
                attempts=0,
                max_attempts=kind.max_attempts,
                cancel_requested=False,
                lock_key=lock_key,
                dedupe_key=dedupe_key,
                retry_of=retry_of,
                created_at=utc_now(),
                created_by_type=actor.type,
                created_by_id=actor.id,
                created_by_label=actor.label,
            )
            values = {column.key: getattr(row, column.key) for column in _JOBS.columns}
            session.connection().execute(_INSERT, values)  # Core, as claim: no unit of work for a new row
            details = {"kind": kind.name, "params": dict(params), **({"retry_of": retry_of} if retry_of else {})}
            self.audit.append_in(session, AuditEntry("job.submit", actor, target=row.id, details=details))
            return row

        try:
            row = await self.db.write_in_thread(work)
        except IntegrityError:
            if dedupe_key is None:
                raise
            return await self._by_dedupe_key(dedupe_key)
        await asyncio.to_thread(self.enqueue, row.id, kind, 0.0)
        return self.view(row)

    async def get(self, job_id: str) -> JobView:
        """One job (NotFound if there is none)."""
        row = await self.db.read_in_thread(lambda connection: _row(connection, job_id))
        return self.view(row)

    async def page(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        states: Sequence[str] | None = None,
        kind: str | None = None,
    ) -> tuple[list[JobView], str | None]:
        """Newest first, filtered by states and kind; the jobs and the cursor of the next page."""
        if unknown := [state for state in states or () if state not in STATES]:
            reason = f"{unknown[0]} is not a state: use {', '.join(STATES)}"
            raise ValidationFailed("Unknown state.", errors=[FieldError("state", reason)])
        query = select(JobRow)
        if states:
            query = query.where(JobRow.state.in_(list(states)))
        if kind:
            query = query.where(JobRow.kind == kind)

        def read(connection: Connection) -> tuple[list[JobView], str | None]:
            found = keyset_page_in(
                Session(bind=connection),  # type: ignore[arg-type]  # an ORM select needs a session to give rows
                query,
                keys=JOB_ORDER,
                codec=self.cursors,
                scope="jobs",
                limit=limit,
                cursor=cursor,
            )
            return [self.view(_from_mapping(row)) for row in found.rows], found.next_cursor

        return await self.db.read_in_thread(read)

    async def cancel(self, actor: Actor, job_id: str) -> JobView:
        """Stop a job: a queued one never runs; a running one stops at its next checkpoint. Audited."""

        def work(session: Session) -> tuple[JobRow, bool]:
            row = _locked(session, job_id)
            if row.state in FINISHED:
                raise Conflict(f"The job is {row.state}: there is nothing to cancel.", extra={"state": row.state})
            was_queued = row.state == QUEUED
            if was_queued:
                _finish(row, CANCELLED, message="cancelled before it started")
            else:
                row.cancel_requested = True
                row.message = "cancelling: it stops after the chunk it is on"
            self.audit.append_in(session, AuditEntry("job.cancel", actor, target=job_id, details={"kind": row.kind}))
            return row, was_queued

        row, was_queued = await self.db.write_in_thread(work)
        if was_queued:
            await asyncio.to_thread(self.revoke, job_id)
        return self.view(row)

    async def retry(self, actor: Actor, job_id: str) -> JobView:
        """A new job with a failed (or cancelled) job's kind and params; the new job."""
        old = await self.db.read_in_thread(lambda connection: _row(connection, job_id))
        if old.state not in (FAILED, CANCELLED):
            raise Conflict(
                f"Only a failed or cancelled job can be retried; this one is {old.state}.", extra={"state": old.state}
            )
        return await self.submit(actor, old.kind, old.params, retry_of=old.id)

    async def _by_dedupe_key(self, dedupe_key: str) -> JobView:
        query = select(JobRow).where(JobRow.dedupe_key == dedupe_key)
        row = await self.db.read_in_thread(lambda connection: Session(bind=connection).scalars(query).one())
        return self.view(row)

    # Workers ---------------------------------------------------------------------------------------------------

    async def claim(self, job_id: str, worker: str) -> Claim | None:
        """Hold the job for worker and count an attempt; None if it is not to run (finished, cancelled, gone).

        Raises LockBusy while another running job holds the same lock: locks live in this table, so a lock
        whose holder died is freed with its lease (see recover), and two restores never overlap.
        """

        def work(session: Session) -> Claim | LockBusy | None:
            connection = session.connection()  # Core: a worker's claim is on every job's path (see _JOBS)
            row = connection.execute(_CLAIM_READ, {"job_id": job_id}).first()
            if row is None or row.state in FINISHED:
                return None
            if row.state == RUNNING and row.lease_owner != worker:
                return None  # another worker holds it (its task was handed over twice); recover frees a dead one
            if row.cancel_requested:
                connection.execute(_UPDATE, {"job_id": job_id, **_finished(CANCELLED, "cancelled before it started")})
                return None
            if row.lock_key:
                take_turn(session, f"job-lock:{row.lock_key}")  # two claims of one lock never both see it free
                holder = connection.execute(
                    select(_JOBS.c.id).where(
                        _JOBS.c.lock_key == row.lock_key, _JOBS.c.state == RUNNING, _JOBS.c.id != job_id
                    )
                ).scalar()
                if holder is not None:  # returned, not raised: the waiting message is kept
                    waiting = f"waiting for job {holder} to finish ({row.lock_key})"
                    connection.execute(_UPDATE, {"job_id": job_id, "message": waiting})
                    return LockBusy(row.lock_key, holder)
            now, attempt = utc_now(), row.attempts + 1
            claimed = {
                "state": RUNNING,
                "attempts": attempt,
                "started_at": row.started_at or now,
                "run_after": None,
                "lease_owner": worker,
                "heartbeat_at": now,
                "message": "started" if attempt == 1 else f"attempt {attempt} of {row.max_attempts}",
            }
            connection.execute(_UPDATE, {"job_id": job_id, **claimed})
            actor = Actor(row.created_by_type, row.created_by_id, row.created_by_label)
            return Claim(job_id, row.kind, dict(row.params), attempt, actor)

        claimed = await self.db.write_in_thread(work)
        if isinstance(claimed, LockBusy):
            raise claimed
        return claimed

    async def report_progress(self, job_id: str, percent: int, message: str) -> None:
        """A running job's progress; it counts as a sign of life."""
        statement = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == RUNNING)
            .values(progress=max(0, min(100, percent)), heartbeat_at=utc_now(), **_message(message))
        )
        await self.db.write_in_thread(lambda session: session.execute(statement))

    async def finish(
        self,
        job_id: str,
        state: str,
        *,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
        detail: str | None = None,
        message: str = "",
    ) -> None:
        """The job ended: succeeded (with its result; its kind says what it did), failed, or cancelled."""

        def work(session: Session) -> None:
            connection = session.connection()  # Core, as claim
            row = connection.execute(_FINISH_READ, {"job_id": job_id}).first()
            if row is None or row.state in FINISHED:
                return
            said = message or (self._summary(row.kind, result or {}) if state == SUCCEEDED else "")
            ended = _finished(state, said, result=result, error=error, detail=detail)
            connection.execute(_UPDATE, {"job_id": job_id, **ended})

        await self.db.write_in_thread(work)

    def _summary(self, kind_name: str, result: Mapping[str, Any]) -> str:
        """What a succeeded job of that kind says it did; "done" if its kind cannot say (a bug there loses nothing)."""
        kind = self.kinds.get(kind_name)
        try:
            return kind.summary(result) if kind else "done"
        except (KeyError, TypeError, ValueError):
            return "done"

    async def will_retry(self, job_id: str, error: str, detail: str | None, delay_s: float) -> None:
        """The attempt failed and another follows after delay_s: queued again, its error kept for now."""

        def work(session: Session) -> None:
            row = session.get(JobRow, job_id)
            if row is None or row.state in FINISHED:
                return
            row.state = QUEUED
            row.lease_owner = None
            row.run_after = utc_now() + timedelta(seconds=delay_s)
            row.error, row.error_detail = _clip(error), _clip(detail)
            row.message = _message(f"attempt {row.attempts} failed; retrying in {delay_s:g} s")["message"]

        await self.db.write_in_thread(work)

    async def paused(self, job_id: str) -> None:
        """A running job stopped because the backend is stopping: queued again, the attempt not counted."""

        def work(session: Session) -> None:
            row = session.get(JobRow, job_id)
            if row is None or row.state != RUNNING:
                return
            row.state, row.lease_owner = QUEUED, None
            row.attempts = max(0, row.attempts - 1)
            row.message = "paused: the backend stopped; the job starts again with the backend"

        await self.db.write_in_thread(work)

    async def waiting(self, job_id: str, message: str) -> None:
        """A queued job waits (for a lock, say): say why."""
        statement = update(JobRow).where(JobRow.id == job_id, JobRow.state == QUEUED).values(**_message(message))
        await self.db.write_in_thread(lambda session: session.execute(statement))

    async def heartbeat(self, worker: str) -> int:
        """Every job worker runs is alive; how many it runs."""
        statement = (
            update(JobRow).where(JobRow.lease_owner == worker, JobRow.state == RUNNING).values(heartbeat_at=utc_now())
        )
        result = await self.db.write_in_thread(lambda session: session.execute(statement))
        return int(result.rowcount or 0)

    async def recover(self, *, worker: str, others_dead: bool) -> list[str]:
        """Jobs left running by a dead worker: queued again while attempts are left, failed otherwise.

        A worker is dead when its lease ran out (no heartbeat for lease_s), or, with others_dead, when it is
        any worker but this one (embedded: the data dir's lock proves no other process runs). Huey drops a task
        killed mid-run, so the ids of the jobs to hand to the queue again are returned.
        """
        stale_before = utc_now() - timedelta(seconds=self.lease_s)

        def work(session: Session) -> list[tuple[str, str]]:
            # FOR UPDATE SKIP LOCKED (PostgreSQL): a job a worker is claiming or finishing right now is left to it,
            # and two sweeping workers never take back the same job.
            query = select(JobRow).where(JobRow.state == RUNNING).with_for_update(skip_locked=True)
            again = []
            for row in session.scalars(query):
                dead = (others_dead and row.lease_owner != worker) or (
                    row.heartbeat_at is None or row.heartbeat_at < stale_before
                )
                if not dead:
                    continue
                reason = f"its worker ({row.lease_owner or 'unknown'}) stopped during attempt {row.attempts}"
                if row.attempts < row.max_attempts:
                    row.state, row.lease_owner, row.message = QUEUED, None, _message(f"{reason}; retrying")["message"]
                    row.error = _clip(reason)
                    again.append((row.id, row.kind))
                else:
                    _finish(row, FAILED, error=f"{reason}, its last attempt")
            return again

        again = await self.db.write_in_thread(work)
        for job_id, kind in again:
            if kind in self.kinds:
                await asyncio.to_thread(self.enqueue, job_id, self.kinds[kind], 0.0)
        return [job_id for job_id, _ in again]

    async def purge_finished(self, before: datetime) -> int:
        """Remove the jobs that finished before that moment; how many."""
        statement = delete(JobRow).where(JobRow.state.in_(list(FINISHED)), JobRow.finished_at < before)
        result = await self.db.write_in_thread(lambda session: session.execute(statement))
        return int(result.rowcount or 0)

    async def finished_before(self, before: datetime) -> bool:
        """Whether any job finished before that moment (a clean-up would remove it)."""
        query = select(JobRow.id).where(JobRow.state.in_(list(FINISHED)), JobRow.finished_at < before).limit(1)
        return await self.db.read_in_thread(lambda connection: connection.execute(query).first() is not None)

    async def files_in_use(self) -> list[str]:
        """The files jobs not yet ended will read (an import's upload), and those of kept jobs' results."""
        query = select(JobRow.state, JobRow.params, JobRow.result)

        def read(connection: Connection) -> list[str]:
            names = []
            for state, params, result in Session(bind=connection).execute(query):
                if state not in FINISHED or state == FAILED:  # a failed import keeps its upload for a retry
                    names.append(str((params or {}).get("file") or ""))
                names.append(str((result or {}).get("file") or ""))
            return [name for name in names if name]

        return await self.db.read_in_thread(read)

    async def queued_ids(self) -> list[str]:
        """The ids of every queued job (to find those the queue lost)."""
        query = select(JobRow.id).where(JobRow.state == QUEUED)
        return await self.db.read_in_thread(lambda connection: list(connection.execute(query).scalars()))

    async def requeue(self, job_ids: Sequence[str]) -> None:
        """Hand these queued jobs to the queue again (the queue lost them: a crash between commit and enqueue)."""
        query = select(JobRow.id, JobRow.kind).where(JobRow.id.in_(list(job_ids)), JobRow.state == QUEUED)
        found = await self.db.read_in_thread(lambda connection: list(connection.execute(query).all()))
        for job_id, kind in found:
            if kind in self.kinds:
                await asyncio.to_thread(self.enqueue, job_id, self.kinds[kind], 0.0)

    async def set_aside_unfinished(self, reason: str, by_kind: Mapping[str, str] | None = None) -> int:
        """Cancel every job still queued or running, saying why (by_kind: why, for some kinds); how many."""
        # The backup caught them unfinished; what they did afterwards belongs to the database set aside.

        def work(session: Session) -> int:
            rows = list(session.scalars(select(JobRow).where(JobRow.state.in_([QUEUED, RUNNING]))))
            for row in rows:
                _finish(row, CANCELLED, message=(by_kind or {}).get(row.kind, reason))
            return len(rows)

        return await self.db.write_in_thread(work)


def _row(connection: Connection, job_id: str) -> JobRow:
    found = Session(bind=connection).get(JobRow, job_id)
    if found is None:
        raise NotFound(f"No job {job_id}.")
    return found


def _from_mapping(found: Any) -> JobRow:
    """An ORM row read through a Core connection comes back as a one-element row of the entity."""
    return found[0]


def _locked(session: Session, job_id: str) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFound(f"No job {job_id}.")
    return row


def _finish(
    row: JobRow,
    state: str,
    *,
    message: str = "",
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    detail: str | None = None,
) -> None:
    for name, value in _finished(state, message, result=result, error=error, detail=detail).items():
        setattr(row, name, value)


def _finished(
    state: str,
    message: str,
    *,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """The columns a job's end sets."""
    ended: dict[str, Any] = {"state": state, "finished_at": utc_now(), "lease_owner": None, "run_after": None}
    if result is not None:
        ended["result"] = dict(result)
    if state == SUCCEEDED:
        ended.update(progress=100, error=None, error_detail=None)
    elif error is not None:
        ended.update(error=_clip(error), error_detail=_clip(detail))
    ended["message"] = _message(message or error or state)["message"]  # a failed job says why where it is listed
    return ended


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_CHARS]


def _message(text: str) -> dict[str, str]:
    return {"message": text[:500]}
