"""The demo dataset made in the background for the API (it takes a minute; a request must not wait that long)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from backend.errors import Conflict
from backend.observability.audit import Actor
from backend.records.data_plane import DataPlane
from backend.records.demo import load_demo, refuse_if_there
from backend.records.demo_data import DemoSize

logger = logging.getLogger(__name__)


@dataclass
class DemoState:
    """Where the one demo run of this backend stands: idle, running, done (with its counts) or failed."""

    state: str = "idle"
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class DemoRun:
    """At most one demo load at a time, as a task of the backend's event loop; its state for whoever asks."""

    now: DemoState = field(default_factory=DemoState)
    _task: asyncio.Task[None] | None = None

    def start(self, data: DataPlane, actor: Actor, size: DemoSize) -> DemoState:
        """Start the load; 409 at once when one is running or the demo collections exist."""
        if self._task is not None and not self._task.done():
            raise Conflict("The demo data is being made already.")
        refuse_if_there(data)
        self.now = DemoState("running")
        self._task = asyncio.get_running_loop().create_task(self._run(data, actor, size))
        return self.now

    async def _run(self, data: DataPlane, actor: Actor, size: DemoSize) -> None:
        try:
            self.now = DemoState("done", result=await load_demo(data, actor, size))
        except Exception as exc:  # the run's outcome is reported to the console, not raised into the loop
            logger.exception("the demo data could not be made")
            self.now = DemoState("failed", error=str(exc) or type(exc).__name__)

    async def stop(self) -> None:
        """Cancel a run under way (the backend is stopping); the chunks already committed stay."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
