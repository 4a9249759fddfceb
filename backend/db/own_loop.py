"""Running a coroutine to its end from synchronous code, whether or not an event loop runs on this thread."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """coroutine's result, run on a new event loop in a thread of its own (the caller's loop, if any, waits).

    For start-up work on PostgreSQL (migrating, reading saved settings), which is synchronous code that may be
    called from inside a running loop (a CLI command carried out here), where asyncio.run would refuse.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="outpost-own-loop") as pool:
        return pool.submit(contextvars.copy_context().run, asyncio.run, coroutine).result()
