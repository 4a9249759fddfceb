"""The error tree and its rendering as RFC 9457 problem+json replies."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from msgspec import Struct

from backend.observability.request_id import current_request_id

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:outpost:problem:"

logger = logging.getLogger("outpost.errors")


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one field of the input."""

    field: str
    message: str


class ProblemFieldError(Struct):
    """A field and what is wrong with it."""

    field: str
    message: str


class Problem(Struct, omit_defaults=True):
    """An RFC 9457 problem document, as every error reply carries."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None
    # A filter or sort the API could not read: the 0-based character offset where it went wrong.
    position: int | None = None


_DESCRIPTIONS = {
    400: "Malformed request, a cursor this API did not give out, or a Host it does not answer to",
    401: "Not signed in, or the credentials are not valid (expired, revoked, forged)",
    403: "Signed in, but without the permission this operation declares",
    404: "Not found",
    409: "Conflict with the current state",
    412: "If-Match does not match the current ETag",
    413: "Request body larger than the configured limit",
    414: "Request target (path and query) longer than 8 KiB, refused before any route runs",
    415: "Request body is not application/json",
    422: "Validation failed: `errors` lists each field and why",
    429: "Too many requests or failed sign-ins: wait for Retry-After seconds",
    431: "Request line and headers longer than 32 KiB, refused before any route runs",
    503: "Busy (too many connections, or writes queued past the writer's wait: retry after Retry-After s),"
    " or a part of the backend is not ready",
}


def problem_responses(*statuses: int, rate_limited: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI entries documenting an operation's problem+json error replies.

    Every operation can answer 400 (a Host the server does not answer to, a malformed request), 414 and
    431 (a target or head too long for the connection layer), 503 (too many connections, a writer queue
    too long), and 429 unless it is outside the per-principal rate limit (rate_limited=False: /health, /ready).
    """
    documented = {400, 414, 431, 503, *statuses, *((429,) if rate_limited else ())}
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_JSON,
            # Examples would be random fakes (polyfactory + faker, 3 MB in the executable), not real problems.
            generate_examples=False,
        )
        for status in sorted(documented)
    }


class OutpostError(Exception):
    """An error the API answers with a problem+json reply."""

    status: int = 500
    slug: str = "internal"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(OutpostError):
    status, slug = 400, "bad-request"


class Unauthorized(OutpostError):
    status, slug = 401, "unauthorized"


class Forbidden(OutpostError):
    status, slug = 403, "forbidden"


class NotFound(OutpostError):
    status, slug = 404, "not-found"


class Conflict(OutpostError):
    status, slug = 409, "conflict"


class PreconditionFailed(OutpostError):
    status, slug = 412, "precondition-failed"


class UnsupportedMediaType(OutpostError):
    status, slug = 415, "unsupported-media-type"


class ValidationFailed(OutpostError):
    status, slug = 422, "validation"


class TooManyRequests(OutpostError):
    status, slug = 429, "too-many-requests"


class ServiceUnavailable(OutpostError):
    status, slug = 503, "unavailable"


# Litestar's own exceptions carry only a status; these give each a stable type.
_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}


def problem_response(
    request: Request[Any, Any, Any] | None,
    *,
    status: int,
    detail: str,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A problem+json reply carrying the request id."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or _SLUG_BY_STATUS.get(status, "error")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path if request is not None else None,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# msgspec's wording, as a person filling in a form would put it; the rest is passed through.
_PLAIN_WORDING = (
    (re.compile(r"^Expected `str` of length >= (\d+)"), lambda m: f"must be at least {m[1]} characters"),
    (re.compile(r"^Expected `str` of length <= (\d+)"), lambda m: f"must be at most {m[1]} characters"),
    (re.compile(r"^Expected `array` of length >= (\d+)"), lambda m: f"must list at least {m[1]}"),
    (re.compile(r"^Expected `array` of length <= (\d+)"), lambda m: f"must list at most {m[1]}"),
    (re.compile(r"^Object missing required field `(\w+)`"), lambda m: f"{m[1]} is required"),
)


def plain_message(message: str) -> str:
    """A validation message in plain words where we know a better phrasing."""
    for pattern, phrase in _PLAIN_WORDING:
        if match := pattern.match(message):
            return phrase(match)
    return message


def _field_errors_from_litestar(exc: ValidationException) -> list[FieldError]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            errors.append(FieldError(key, plain_message(str(item.get("message", "is invalid")))))
    return errors


def handle_outpost_error(request: Request[Any, Any, Any], exc: OutpostError) -> Response[dict[str, Any]]:
    """Our own errors: their status, type, detail and field errors."""
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        detail=exc.detail,
        errors=exc.errors,
        extra=exc.extra,
        headers=exc.headers,
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's exceptions (routing, body size, parsing) as problem+json."""
    status = exc.status_code
    detail = exc.detail or HTTPStatus(status).phrase
    errors: list[FieldError] = []
    if isinstance(exc, ValidationException):
        errors = _field_errors_from_litestar(exc)
        if any("malformed" in e.message.lower() for e in errors) or "malformed" in detail.lower():
            status, detail = 400, "The request body is not valid JSON."
        else:
            status, detail = 422, "The request is not valid: see errors."
            errors = errors or [FieldError("body", exc.detail or "is invalid")]
    if status == 413:
        limit = request.route_handler.resolve_request_max_body_size()
        detail = f"The request body is larger than this operation accepts ({limit} bytes at most)."
    if status >= 500:
        logger.error("server error %s: %s", status, detail)
        detail = HTTPStatus(status).phrase
    return problem_response(request, status=status, detail=detail, errors=errors, headers=exc.headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Anything else: a 500 with no internals, the traceback kept in the log."""
    logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        detail="An unexpected error occurred. Quote the request id when reporting it.",
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    OutpostError: handle_outpost_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
