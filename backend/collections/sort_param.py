"""The ?sort= parameter: `name,-created_at` as (field, descending) pairs."""

from __future__ import annotations

from collections.abc import Collection

from backend.collections.filter_language import MAX_FILTER_LENGTH, FilterError

__all__ = ["FilterError", "parse_sort"]


def parse_sort(text: str, sortable: Collection[str]) -> list[tuple[str, bool]]:
    """The sort keys named, in order, each with True for descending; FilterError(field="sort") if one is not.

    Blank text names no key. A key is a field name, `-` before it for descending (`+` or nothing for
    ascending), keys separated by commas, spaces around them ignored. The id tiebreak is the caller's.
    """
    if len(text) > MAX_FILTER_LENGTH:
        message = f"sort is longer than {MAX_FILTER_LENGTH} characters"
        raise FilterError(message, position=MAX_FILTER_LENGTH, field="sort")
    if not text.strip():
        return []
    keys: list[tuple[str, bool]] = []
    seen: set[str] = set()
    start = 0
    for part in text.split(","):
        position = start + len(part) - len(part.lstrip())
        start += len(part) + 1
        key = part.strip()
        descending = key.startswith("-")
        name = key[1:] if key[:1] in ("-", "+") else key
        if not name:
            raise FilterError("expected a field name", position=position, field="sort")
        if name not in sortable:
            raise FilterError(f"unknown field {_shown(name)}", position=position, field="sort")
        if name in seen:
            raise FilterError(f"{name} is named twice", position=position, field="sort")
        seen.add(name)
        keys.append((name, descending))
    return keys


def _shown(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:37] + "...")
