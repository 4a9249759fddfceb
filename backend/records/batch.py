"""POST /api/v1/batch: record writes across collections, all or nothing, in one writer transaction (one trip)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.errors import FieldError, Forbidden, OutpostError, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail
from backend.records.collaborators import Grants
from backend.records.idempotency import IdempotentRequest, StoredReply
from backend.records.service import RecordService
from backend.records.writes import PlannedWrite

MAX_OPERATIONS = 1000


@dataclass(frozen=True)
class Operation:
    """One write of a batch."""

    method: str  # POST, PATCH, PUT or DELETE
    collection: str
    id: str | None = None
    body: Mapping[str, Any] | None = None
    if_match: str | None = None


def _shape_problems(operation: Operation) -> list[FieldError]:
    problems = []
    if operation.method == "POST":
        if operation.id is not None:
            problems.append(FieldError("id", "is not given for POST (put an id in the body to choose one)"))
    elif operation.id is None:
        problems.append(FieldError("id", f"is required for {operation.method}"))
    if operation.method in ("POST", "PATCH", "PUT") and operation.body is None:
        problems.append(FieldError("body", f"is required for {operation.method}"))
    return problems


@dataclass(frozen=True)
class Planned:
    """An operation checked and ready for the writer, and where it stood in the batch."""

    index: int
    method: str
    write: PlannedWrite


def _runs(planned: list[Planned]) -> list[list[Planned]]:
    """The operations in order, cut into runs of one method on one collection (creates run at once)."""
    runs: list[list[Planned]] = []
    for one in planned:
        last = runs[-1][-1] if runs else None
        if last and (last.method, last.write.shape.key) == (one.method, one.write.shape.key):
            runs[-1].append(one)
        else:
            runs.append([one])
    return runs


def _at(index: int, exc: OutpostError) -> OutpostError:
    """The error of one operation, naming it: the batch's problem says which operation failed and why."""
    named = type(exc)(
        f"Operation {index} failed, so no operation was carried out: {exc.detail}",
        errors=[FieldError(f"operations[{index}].{error.field}", error.message) for error in exc.errors],
        extra={**exc.extra, "operation": index},
        headers=exc.headers,
    )
    return named


class BatchService:
    """Runs a batch through the record service's writes in one trip to the writer; one audit entry for the whole."""

    def __init__(self, records: RecordService, audit: AuditTrail) -> None:
        self.records = records
        self.audit = audit

    async def run(
        self,
        actor: Actor,
        grants: Grants,
        operations: Sequence[Operation],
        *,
        idempotent: IdempotentRequest | None = None,
    ) -> StoredReply:
        """Carry out every operation or none; the 200 reply listing each result in order."""
        if not 1 <= len(operations) <= MAX_OPERATIONS:
            raise ValidationFailed(
                f"A batch holds 1 to {MAX_OPERATIONS} operations.",
                errors=[FieldError("operations", f"must list 1 to {MAX_OPERATIONS} operations")],
            )
        # Every operation is checked first (what needs no database), then all run in one transaction.
        planned = []
        # Asked once per collection, not per operation: a permission check walks the grants.
        writable = {name: grants.can(f"records:write:{name}") for name in {one.collection for one in operations}}
        for index, operation in enumerate(operations):
            try:
                planned.append(Planned(index, operation.method, await self._plan(writable, operation)))
            except OutpostError as exc:
                raise _at(index, exc) from None
        methods = Counter(operation.method for operation in operations)
        collections = sorted({operation.collection for operation in operations})
        details = {"operations": len(operations), "methods": dict(methods), "collections": collections}
        idempotency = self.records.idempotency

        def work(session: Session) -> StoredReply:
            if idempotent and (stored := idempotency.replay(session, idempotent)):
                return stored
            results: list[dict[str, Any]] = []
            for run in _runs(planned):
                results += self._creates_at_once(session, actor, run) or self._one_by_one(session, actor, run)
            self.audit.append_in(session, AuditEntry("records.batch", actor, target="batch", details=details))
            reply = StoredReply(200, {"results": results})
            if idempotent:
                idempotency.store(session, idempotent, reply)
            return reply

        return await self.records.db.write_in_thread(work)

    async def _plan(self, writable: Mapping[str, bool], operation: Operation) -> PlannedWrite:
        if not writable[operation.collection]:
            raise Forbidden(f"Not allowed: needs the permission records:write:{operation.collection}.")
        if problems := _shape_problems(operation):
            raise ValidationFailed("The operation is not complete: see errors.", errors=problems)
        records, body = self.records, operation.body or {}
        match operation.method:
            case "POST":
                return await records.plan_create(operation.collection, body)
            case "PATCH" | "PUT":
                assert operation.id is not None
                return await records.plan_update(
                    operation.collection,
                    operation.id,
                    body,
                    replace=operation.method == "PUT",
                    if_match=operation.if_match,
                )
            case "DELETE":
                assert operation.id is not None
                return await records.plan_delete(operation.collection, operation.id, if_match=operation.if_match)
        raise ValidationFailed(  # the route's schema allows only the four methods
            "Unknown method.", errors=[FieldError("method", "must be POST, PATCH, PUT or DELETE")]
        )

    def _creates_at_once(self, session: Session, actor: Actor, run: list[Planned]) -> list[dict[str, Any]]:
        """A run of creates in one collection as one INSERT; [] if it is no such run, or one of them is at fault."""
        if len(run) < 2 or run[0].method != "POST":
            return []
        try:
            with session.begin_nested():
                made = self.records.writer.create_all_in(session, actor, [one.write for one in run])
        except Exception:  # nothing of it stays; one by one, the operation at fault is found and named
            return []
        return [{"status": 201, "body": record} for record in made]

    def _one_by_one(self, session: Session, actor: Actor, run: list[Planned]) -> list[dict[str, Any]]:
        results = []
        for one in run:
            try:
                results.append(self._one(session, actor, one.method, one.write))
            except OutpostError as exc:
                raise _at(one.index, exc) from None
        return results

    def _one(self, session: Session, actor: Actor, method: str, write: PlannedWrite) -> dict[str, Any]:
        if method == "POST":
            return {"status": 201, "body": self.records.writer.create_in(session, actor, write)}
        if method == "DELETE":
            self.records.writer.delete_in(session, actor, write)
            return {"status": 204, "body": None}
        return {"status": 200, "body": self.records.writer.update_in(session, actor, write)}
