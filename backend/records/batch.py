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
from backend.records.service import PlannedWrite, RecordService

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
        for index, operation in enumerate(operations):
            try:
                planned.append(await self._plan(grants, operation))
            except OutpostError as exc:
                raise _at(index, exc) from None
        methods = Counter(operation.method for operation in operations)
        collections = sorted({operation.collection for operation in operations})
        details = {"operations": len(operations), "methods": dict(methods), "collections": collections}
        idempotency = self.records.idempotency

        def work(session: Session) -> StoredReply:
            if idempotent and (stored := idempotency.replay(session, idempotent)):
                return stored
            results = []
            for index, (method, write) in enumerate(planned):
                try:
                    results.append(self._one(session, actor, method, write))
                except OutpostError as exc:
                    raise _at(index, exc) from None
            self.audit.append_in(session, AuditEntry("records.batch", actor, target="batch", details=details))
            reply = StoredReply(200, {"results": results})
            if idempotent:
                idempotency.store(session, idempotent, reply)
            return reply

        return await self.records.db.write_in_thread(work)

    async def _plan(self, grants: Grants, operation: Operation) -> tuple[str, PlannedWrite]:
        needed = f"records:write:{operation.collection}"
        if not grants.can(needed):
            raise Forbidden(f"Not allowed: needs the permission {needed}.")
        if problems := _shape_problems(operation):
            raise ValidationFailed("The operation is not complete: see errors.", errors=problems)
        records, body = self.records, operation.body or {}
        match operation.method:
            case "POST":
                return operation.method, await records.plan_create(operation.collection, body)
            case "PATCH" | "PUT":
                assert operation.id is not None
                planned = await records.plan_update(
                    operation.collection,
                    operation.id,
                    body,
                    replace=operation.method == "PUT",
                    if_match=operation.if_match,
                )
                return operation.method, planned
            case "DELETE":
                assert operation.id is not None
                return operation.method, await records.plan_delete(
                    operation.collection, operation.id, if_match=operation.if_match
                )
        raise ValidationFailed(  # the route's schema allows only the four methods
            "Unknown method.", errors=[FieldError("method", "must be POST, PATCH, PUT or DELETE")]
        )

    def _one(self, session: Session, actor: Actor, method: str, write: PlannedWrite) -> dict[str, Any]:
        if method == "POST":
            return {"status": 201, "body": self.records.create_in(session, actor, write)}
        if method == "DELETE":
            self.records.delete_in(session, actor, write)
            return {"status": 204, "body": None}
        return {"status": 200, "body": self.records.update_in(session, actor, write)}
