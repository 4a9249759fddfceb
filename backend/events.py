"""One-line JSON events on stdout: the GUI's only view of a child backend's state."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_event(event: str, **fields: Any) -> None:
    """Write one event line to stdout and flush it at once."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()
