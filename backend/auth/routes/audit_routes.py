"""/api/v1/audit: the audit log, newest first, filtered, by cursor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from msgspec import Struct

from backend.auth.access import PROTECTED, requires
from backend.auth.identity import Identity
from backend.errors import FieldError, ValidationFailed, problem_responses
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit, optional_string

OUTCOMES = ("success", "failure", "denied")


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
    try:
        # The log keeps UTC; 9999-12-31T23:59:59-14:00 is a valid RFC 3339 time but has no UTC year.
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(
            "The time filter is not valid.", errors=[FieldError(name, "must fall within the years 1 to 9999 in UTC")]
        ) from None


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
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        action: Annotated[
            str | None,
            Parameter(
                max_length=64,
                description="The start of an action: 'user', 'user.' or 'auth.login'",
                schema_extra=optional_string(),
            ),
        ] = None,
        actor: Annotated[
            str | None,
            Parameter(max_length=254, description="Part of the actor's label", schema_extra=optional_string()),
        ] = None,
        outcome: Annotated[
            # str, checked below: Litestar would read the text "null" as None for a Literal | None
            str | None,
            Parameter(description="How it ended", schema_extra=optional_string(enum=list(OUTCOMES))),
        ] = None,
        since: Annotated[
            str | None,
            Parameter(description="From (RFC 3339)", schema_extra=optional_string(format="date-time")),
        ] = None,
        until: Annotated[
            str | None,
            Parameter(description="Before (RFC 3339)", schema_extra=optional_string(format="date-time")),
        ] = None,
    ) -> AuditPage:
        """Filter by action, actor, outcome and time; follow next_cursor for older events."""
        if outcome is not None and outcome not in OUTCOMES:
            reason = f"must be one of {', '.join(OUTCOMES)}"
            raise ValidationFailed("The outcome filter is not valid.", errors=[FieldError("outcome", reason)])
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
