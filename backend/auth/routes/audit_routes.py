"""/api/v1/audit: the audit log, newest first, filtered, by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from msgspec import Struct

from backend.auth.access import PROTECTED, requires
from backend.auth.identity import Identity
from backend.errors import FieldError, ValidationFailed, problem_responses


class AuditEventOut(Struct):
    """One audited event."""

    id: int
    at: datetime
    actor_type: str
    actor_id: str | None
    actor_label: str
    action: str
    target: str | None
    client: str | None
    request_id: str | None
    outcome: str
    details: dict[str, Any]


class AuditPage(Struct):
    """A page of events and the cursor of the next one."""

    items: list[AuditEventOut]
    next_cursor: str | None


def _moment(name: str, value: str | None) -> datetime | None:
    # Parsed here, not by Litestar, which would also take a bare number as a Unix time.
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            "The time filter is not valid.", errors=[FieldError(name, "must be an RFC 3339 time with a zone")]
        )
    return moment


class AuditController(Controller):
    """Reading the audit log."""

    path = "/api/v1/audit"
    tags = ["audit"]
    security = PROTECTED

    @get(
        summary="Audit events, newest first",
        opt=requires("audit:read"),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_events(
        self,
        identity: NamedDependency[Identity],
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=64)] = None,
        action: Annotated[
            str | None, Parameter(max_length=64, description="An action, or a prefix ending in '.'")
        ] = None,
        actor: Annotated[str | None, Parameter(max_length=254, description="Part of the actor's label")] = None,
        outcome: FromQuery[Literal["success", "failure", "denied"] | None] = None,
        since: Annotated[
            str | None, Parameter(schema_extra={"format": "date-time"}, description="From (RFC 3339)")
        ] = None,
        until: Annotated[
            str | None, Parameter(schema_extra={"format": "date-time"}, description="Before (RFC 3339)")
        ] = None,
    ) -> AuditPage:
        """Filter by action, actor, outcome and time; follow next_cursor for older events."""
        rows, next_cursor = await identity.audit.page(
            limit=limit,
            cursor=cursor,
            action=action,
            actor=actor,
            outcome=outcome,
            since=_moment("since", since),
            until=_moment("until", until),
        )
        items = [
            AuditEventOut(
                r.id,
                r.at,
                r.actor_type,
                r.actor_id,
                r.actor_label,
                r.action,
                r.target,
                r.client,
                r.request_id,
                r.outcome,
                r.details,
            )
            for r in rows
        ]
        return AuditPage(items=items, next_cursor=next_cursor)
