"""Overload is a 503, not a 500: a write that waited past the writer's wait is answered busy, Retry-After."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from sqlalchemy.exc import TimeoutError as WriterBusy

from backend.errors import problem_response

__all__ = ["RETRY_AFTER_S", "WriterBusy", "handle_writer_busy"]

RETRY_AFTER_S = 1  # writes take milliseconds: the queue is usually through in a second


def handle_writer_busy(request: Request[Any, Any, Any], exc: WriterBusy) -> Response[dict[str, Any]]:
    """The pool's timeout (every write queues for the one writer connection) as 503 problem+json."""
    return problem_response(
        request,
        status=503,
        slug="busy",
        detail=f"The database is busy with other writes; nothing was changed. Try again in {RETRY_AFTER_S} s.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
