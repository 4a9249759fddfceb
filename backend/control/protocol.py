"""One JSON line each way over the control socket."""

from __future__ import annotations

import json
from typing import Any

MAX_LINE_BYTES = 1024 * 1024


class ControlError(RuntimeError):
    """A control command failed; carries the backend's message and field errors."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


def encode(message: dict[str, Any]) -> bytes:
    """A message as one newline-terminated JSON line."""
    return json.dumps(message, default=str).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """A JSON line back into a message."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a control message is a JSON object")
    return message
