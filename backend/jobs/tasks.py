"""The tasks the queue runs, by name; plain functions, registered on the queue when it is made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def echo(value: str) -> str:
    """Return value: proves a task went through the queue and a worker and came back."""
    return value


TASKS: dict[str, Callable[..., Any]] = {"echo": echo}
