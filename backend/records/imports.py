"""Import rows written through the record service, a chunk per trip from the job's thread: the API's own writes.

Each chunk is planned on the loop as API writes are (the body checked against the collection), a slice of
rows between two turns of the loop, then written a slice per transaction on the writer, between the API's
writes, so a large import never holds the loop or the writer for long. A row with an id of a live record
updates it (only the fields the file has); any other row creates a record (with its id, if it has one).
With skip_invalid, a row the database refuses (a unique value taken, a related record missing) is left out
and reported; otherwise the slice is refused whole and the import stops there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import OutpostError
from backend.observability.audit import Actor
from backend.records.import_source import SourceRow
from backend.records.service import RecordService
from backend.records.writes import PlannedWrite

PLAN_SLICE_ROWS = 20  # rows planned between two turns of the event loop (~1 ms)
# Rows per transaction: an API write waits for at most one slice on the writer (~10 ms), while a chunk's
# rows still make one trip from the job's thread.
WRITE_SLICE_ROWS = 100


@dataclass(frozen=True)
class RowProblem:
    """Why one row of the file was not imported."""

    row: int
    field: str
    message: str


@dataclass
class ChunkOutcome:
    """What a chunk did: records created and updated, and the rows left out with why."""

    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Planned:
    row: int
    update: bool
    write: PlannedWrite


class ChunkRefused(Exception):
    """Rows of a chunk refused (all-or-nothing): their problems, and the records its earlier slices wrote."""

    def __init__(self, problems: list[RowProblem], *, created: int = 0, updated: int = 0) -> None:
        super().__init__(f"{len(problems)} rows of the chunk were refused")
        self.problems = problems
        self.created = created
        self.updated = updated


class _Rehearsed(Exception):
    """A write done only to see what fails, carrying its problems out of the transaction it rolls back."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class RecordImporter:
    """Chunks of import rows into one collection, through the record service."""

    def __init__(self, records: RecordService) -> None:
        self.records = records

    async def check(self, actor: Actor, collection: str, rows: Sequence[SourceRow]) -> list[RowProblem]:
        """Every problem writing rows would meet, the database's too (a unique value taken): nothing is kept.

        The rows are written, a slice per transaction, in transactions that are then rolled back, so the
        check holds the writer as long as the write will.
        """
        planned, problems = await self._plan(collection, rows)
        for part in _slices(planned):

            def rehearse(session: Session, part: list[_Planned] = part) -> None:
                raise _Rehearsed(self._write_in(session, actor, part, skip_invalid=True).problems)

            try:
                await self.records.db.write_in_thread(rehearse)
            except _Rehearsed as rehearsed:
                problems += rehearsed.problems
            else:
                raise AssertionError("unreachable: a rehearsal always rolls back")
        return sorted(problems, key=lambda problem: problem.row)

    async def write(
        self, actor: Actor, collection: str, rows: Sequence[SourceRow], *, skip_invalid: bool
    ) -> ChunkOutcome:
        """Write the rows, a slice per transaction; with skip_invalid the valid ones, else all or (ChunkRefused) none.

        Without skip_invalid, the rows were checked first; a slice refused now (a write since the check took a
        unique value) stops the import there, the slices before it kept and counted in ChunkRefused.
        """
        planned, problems = await self._plan(collection, rows)
        if problems and not skip_invalid:
            raise ChunkRefused(problems)
        outcome = ChunkOutcome(problems=problems)
        for part in _slices(planned):
            try:
                done = await self.records.db.write_in_thread(
                    lambda session, part=part: self._write_in(session, actor, part, skip_invalid=skip_invalid)
                )
            except ChunkRefused as refused:  # raised in the write, so nothing of the slice stayed
                raise ChunkRefused(refused.problems, created=outcome.created, updated=outcome.updated) from None
            outcome.created += done.created
            outcome.updated += done.updated
            outcome.problems += done.problems
        return outcome

    async def _plan(self, collection: str, rows: Sequence[SourceRow]) -> tuple[list[_Planned], list[RowProblem]]:
        shape = await self.records.shape(collection)
        ids = [row.body["id"] for row in rows if isinstance(row.body.get("id"), str)]
        found: dict[str, bool] = {}
        if ids:
            c = shape.table.c
            query = select(c.id, c._deleted).where(c.id.in_(ids))

            def read(connection: Connection) -> dict[str, bool]:
                return {record_id: bool(deleted) for record_id, deleted in connection.execute(query)}

            found = await self.records.db.read_in_thread(read)
        planned, problems = [], []
        for number, row in enumerate(rows, 1):
            if number % PLAN_SLICE_ROWS == 0:
                await asyncio.sleep(0)  # planning runs on the loop: let requests in between slices of the chunk
            if row.problems:  # the rest of the row is still checked, so its every problem is reported at once
                problems += [RowProblem(row.number, name, message) for name, message in row.problems]
                problems += await self._other_problems(collection, row, found)
                continue
            record_id = row.body.get("id")
            try:
                if isinstance(record_id, str) and found.get(record_id) is True:
                    problems.append(RowProblem(row.number, "id", "names a deleted record"))
                    continue
                if isinstance(record_id, str) and record_id in found:
                    body = {name: value for name, value in row.body.items() if name != "id"}
                    planned.append(
                        _Planned(row.number, True, await self.records.plan_update(collection, record_id, body))
                    )
                else:
                    body = row.body if record_id is not None else {k: v for k, v in row.body.items() if k != "id"}
                    planned.append(_Planned(row.number, False, await self.records.plan_create(collection, body)))
            except OutpostError as exc:
                problems += _problems(row.number, exc)
        return planned, problems

    async def _other_problems(self, collection: str, row: SourceRow, found: dict[str, bool]) -> list[RowProblem]:
        """The problems of a row's other fields, besides those its cells already had."""
        reported = {name for name, _ in row.problems}
        body = {name: value for name, value in row.body.items() if name not in reported and name != "id"}
        record_id = row.body.get("id")
        try:
            if isinstance(record_id, str) and record_id in found:
                await self.records.plan_update(collection, record_id, body)
            else:
                await self.records.plan_create(collection, body)
        except OutpostError as exc:
            return [problem for problem in _problems(row.number, exc) if problem.field not in reported]
        return []

    def _write_in(self, session: Session, actor: Actor, planned: list[_Planned], *, skip_invalid: bool) -> ChunkOutcome:
        writer = self.records.writer
        creates = [one.write for one in planned if not one.update]
        try:
            with session.begin_nested():  # the common case: every row goes in, creates as one INSERT
                writer.insert_all_in(session, actor, creates)
                for one in planned:
                    if one.update:
                        writer.update_in(session, actor, one.write)
            return ChunkOutcome(created=len(creates), updated=len(planned) - len(creates))
        except (OutpostError, IntegrityError):
            pass  # nothing of it stayed: row by row, the rows at fault are found and named
        outcome = ChunkOutcome()
        for one in planned:
            try:
                with session.begin_nested():
                    if one.update:
                        writer.update_in(session, actor, one.write)
                    else:
                        writer.create_in(session, actor, one.write)
            except OutpostError as exc:
                outcome.problems += _problems(one.row, exc)
                continue
            except IntegrityError:
                outcome.problems.append(RowProblem(one.row, "record", "conflicts with a record already there"))
                continue
            if one.update:
                outcome.updated += 1
            else:
                outcome.created += 1
        if outcome.problems and not skip_invalid:
            raise ChunkRefused(outcome.problems)
        return outcome


def _slices(planned: list[_Planned]) -> list[list[_Planned]]:
    return [planned[start : start + WRITE_SLICE_ROWS] for start in range(0, len(planned), WRITE_SLICE_ROWS)]


def _problems(row: int, exc: OutpostError) -> list[RowProblem]:
    if exc.errors:
        return [RowProblem(row, error.field, error.message) for error in exc.errors]
    return [RowProblem(row, "record", exc.detail)]


def problem_dict(problem: RowProblem) -> dict[str, Any]:
    """A problem as JSON."""
    return {"row": problem.row, "field": problem.field, "message": problem.message}
