"""Import rows written through the record service, a chunk per trip to the writer: the API's own writes.

Each chunk is planned on the loop as API writes are (the body checked against the collection), then
written in one transaction on the writer, between the API's writes, so a large import never holds the
writer for long. A row with an id of a live record updates it (only the fields the file has); any other
row creates a record (with its id, if it has one). With skip_invalid, a row the database refuses (a unique
value taken, a related record missing) is left out and reported; otherwise the chunk is refused whole.
"""

from __future__ import annotations

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
    """A chunk the database refused in part, written not at all (all-or-nothing): its problems."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} rows of the chunk were refused")
        self.problems = problems


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

        The rows are written in a transaction that is then rolled back, so the check holds the writer for
        one chunk's time, as the write will.
        """
        planned, problems = await self._plan(collection, rows)
        if not planned:
            return problems

        def rehearse(session: Session) -> None:
            raise _Rehearsed(self._write_in(session, actor, planned, skip_invalid=True).problems)

        try:
            await self.records.db.write_in_thread(rehearse)
        except _Rehearsed as rehearsed:
            return sorted(problems + rehearsed.problems, key=lambda problem: problem.row)
        raise AssertionError("unreachable: a rehearsal always rolls back")

    async def write(
        self, actor: Actor, collection: str, rows: Sequence[SourceRow], *, skip_invalid: bool
    ) -> ChunkOutcome:
        """Write the rows in one transaction; with skip_invalid the valid ones, else all or (ChunkRefused) none."""
        planned, problems = await self._plan(collection, rows)
        if problems and not skip_invalid:
            raise ChunkRefused(problems)
        if not planned:
            return ChunkOutcome(problems=problems)
        try:
            outcome = await self.records.db.write_in_thread(
                lambda session: self._write_in(session, actor, planned, skip_invalid=skip_invalid)
            )
        except ChunkRefused as refused:  # raised in the write, so nothing of the chunk stayed
            raise ChunkRefused(problems + refused.problems) from None
        outcome.problems = problems + outcome.problems
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
        for row in rows:
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
                writer.create_all_in(session, actor, creates)
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


def _problems(row: int, exc: OutpostError) -> list[RowProblem]:
    if exc.errors:
        return [RowProblem(row, error.field, error.message) for error in exc.errors]
    return [RowProblem(row, "record", exc.detail)]


def problem_dict(problem: RowProblem) -> dict[str, Any]:
    """A problem as JSON."""
    return {"row": problem.row, "field": problem.field, "message": problem.message}
