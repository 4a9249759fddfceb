"""Waiting on a condition with a timeout: the tests' only way to wait (never a bare sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout_s: float = 10.0, interval_s: float = 0.01) -> bool:
    """Poll condition until it holds or timeout_s passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return bool(condition())
