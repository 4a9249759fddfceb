"""The shapes of jobs in the API."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from backend.jobs.service import JobView

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobOut(Struct):
    """A background job: what it does, where it stands, and what came of it."""

    id: str
    kind: str
    title: str
    params: dict[str, Any]
    state: JobState
    progress: Annotated[int, Meta(ge=0, le=100)]
    message: str
    attempts: int
    max_attempts: int
    error: str | None
    error_detail: str | None  # the traceback of the last failure: shown to administrators only
    result: dict[str, Any] | None  # e.g. {"file": ..., "rows": ...} for an export
    cancel_requested: bool
    retry_of: str | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    run_after: datetime | None  # when a failed attempt's retry is due
    lease_owner: str | None  # the worker running it
    heartbeat_at: datetime | None


class JobPage(Struct):
    """A page of jobs, newest first, and the cursor of the next page."""

    items: list[JobOut]
    next_cursor: str | None


class WaitParams(Struct, frozen=True, forbid_unknown_fields=True):
    """How long the diagnostic job waits."""

    seconds: Annotated[float, Meta(ge=0, le=3600)] = 1.0


class JobRequest(Struct, forbid_unknown_fields=True):
    """A diagnostic job: "wait" proves the workers, progress and cancellation work end to end."""

    kind: Literal["wait"]
    params: WaitParams = WaitParams()


class ExportRequest(Struct, forbid_unknown_fields=True):
    """What to export: the format, and optionally a filter (the list's filter language)."""

    format: Literal["csv", "jsonl"] = "csv"
    filter: Annotated[str, Meta(max_length=4096)] | None = None


def job_out(view: JobView, *, show_detail: bool = False) -> JobOut:
    """The API's form of a job; the traceback of its failure only for administrators (show_detail)."""
    fields = dataclasses.asdict(view)
    if not show_detail:  # a traceback names paths and code: for whoever holds every permission, not every reader
        fields["error_detail"] = None
    return JobOut(**fields)
