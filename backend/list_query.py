"""The query parameters every list takes (?limit=, ?cursor=), as Litestar parameters with honest schemas."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.openapi.spec import OpenAPIType
from litestar.params import Parameter

from backend.db.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT

__all__ = ["DEFAULT_LIMIT", "Cursor", "Limit", "optional_string"]


def optional_string(**extra: Any) -> dict[str, Any]:
    """schema_extra for an optional query string: a plain string, not oneOf [string, null].

    A query parameter is absent or a string; never null. Litestar would publish `str | None` as a
    oneOf with its constraints beside it, where clients and generators lose them (format, maxLength).
    """
    return {"oneOf": None, "type": OpenAPIType.STRING, **extra}


Limit = Annotated[
    int,
    Parameter(ge=1, le=MAX_LIMIT, description=f"Items per page ({DEFAULT_LIMIT} unless given, at most {MAX_LIMIT})"),
]
Cursor = Annotated[
    str | None,
    Parameter(
        max_length=MAX_CURSOR_LENGTH,
        description="The next_cursor of the previous page; nothing else is accepted (400)",
        schema_extra=optional_string(),
    ),
]
