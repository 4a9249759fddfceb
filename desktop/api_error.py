"""ApiError: a failed API call, read from its application/problem+json body (RFC 9457)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    """A failed API call: HTTP status (0 when no answer), detail, field errors, the problem body."""

    status: int
    detail: str
    type: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    request_id: str | None = None
    problem: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail

    def field_errors(self) -> dict[str, str]:
        """Messages by field name, for showing next to inputs."""
        return {e.get("field", ""): e.get("message", "") for e in self.errors}


def error_from_reply(status: int, body: bytes, network_error: str) -> ApiError:
    """The ApiError of a reply that failed: its problem+json read, or "no answer" when status is 0."""
    if status == 0:
        return ApiError(0, f"The backend did not answer: {network_error}", type="network")
    try:
        problem = json.loads(body)
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    return ApiError(
        status=status,
        detail=str(problem.get("detail") or f"HTTP {status}"),
        type=str(problem.get("type", "")),
        errors=list(problem.get("errors") or []),
        request_id=problem.get("request_id"),
        problem=problem,
    )
