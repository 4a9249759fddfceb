"""Conditional requests (RFC 9110 §13): strong ETags from a resource's revision, and If-Match checked against it."""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter

from backend.errors import PreconditionFailed

ETAG = ResponseHeader(name="ETag", documentation_only=True, description="The record's revision, a strong entity tag")
IF_MATCH_MAX_LENGTH = 1024

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        max_length=IF_MATCH_MAX_LENGTH,
        description='Write only if the resource still has this ETag (or "*": if it exists at all); else 412',
        schema_extra={"oneOf": None, "type": "string"},
    ),
]


def etag_of(revision: str) -> str:
    """The strong ETag of a revision."""
    return f'"{revision}"'


def _entity_tags(header: str) -> list[str]:
    # A comma-separated list of entity tags; commas cannot occur inside one (etagc excludes them).
    return [part.strip() for part in header.split(",") if part.strip()]


def matches(if_match: str | None, revision: str) -> bool:
    """Whether an If-Match header lets a write to a resource at this revision go ahead (absent: yes)."""
    if if_match is None:
        return True
    tags = _entity_tags(if_match)
    # If-Match compares strongly (§13.1.1): a weak tag W/"…" never matches.
    return "*" in tags or etag_of(revision) in tags


def require_match(if_match: str | None, revision: str) -> None:
    """Refuse with 412 when If-Match names another revision than the current one."""
    if not matches(if_match, revision):
        raise PreconditionFailed(
            "The resource changed since you read it: its ETag is no longer the one in If-Match. "
            "Read it again, then retry.",
            extra={"etag": etag_of(revision)},
            headers={"ETag": etag_of(revision)},
        )
