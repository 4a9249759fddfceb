"""A collection field's values as typed in a cell or a form: text in, the JSON value the API expects out."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

SYSTEM_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by")
NOT_NULL_SYSTEM = ("id", "created_at", "updated_at")  # never NULL, so a sort on them reverses exactly


def parse(field: dict[str, Any], text: str) -> Any:
    """The value for field from what was typed ('' is none); ValueError says what is wrong in plain words."""
    kind = field.get("type", "text")
    text = text.strip() if kind != "text" else text
    if text == "":
        return None
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError("must be true or false")
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("must be a date like 2026-03-31") from None
    if kind == "datetime":
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat().replace("+00:00", "Z")
        except ValueError:
            raise ValueError("must be a date and time like 2026-03-31T14:05:00Z") from None
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("must be valid JSON") from None
    if kind == "select" and field.get("multiple"):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def as_text(field: dict[str, Any], value: Any) -> str:
    """What to put in an editor for value ('' for none)."""
    if value is None:
        return ""
    if field.get("type") == "json":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
