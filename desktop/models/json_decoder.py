"""JSON decoded on a pool thread: a big page's bytes leave the GUI thread and come back as objects."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

Decoded = Callable[[Any, str | None], None]  # (data, error message or None)


class _Decode(QRunnable):
    """One decode job; its result goes back through the decoder's queued signal."""

    def __init__(self, owner: OffThreadJson, ticket: int, body: bytes) -> None:
        super().__init__()
        self.owner, self.ticket, self.body = owner, ticket, body

    def run(self) -> None:
        try:
            data, error = json.loads(self.body), ""
        except ValueError as exc:
            data, error = None, f"The backend sent a reply that is not JSON: {exc}"
        # Emitted from the pool thread to an object of the GUI thread: Qt queues it onto the GUI thread.
        self.owner.decoded.emit(self.ticket, data, error)


class OffThreadJson(QObject):
    """Decodes reply bodies on a QThreadPool; each callback runs later on the GUI thread."""

    decoded = Signal(int, object, str)

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._tickets = itertools.count()
        self._waiting: dict[int, Decoded] = {}
        self.decoded.connect(self._deliver)

    def decode(self, body: bytes, done: Decoded) -> None:
        """Decode body off the GUI thread; done(data, error) runs on the GUI thread."""
        ticket = next(self._tickets)
        self._waiting[ticket] = done
        self.pool.start(_Decode(self, ticket, body))

    @Slot(int, object, str)
    def _deliver(self, ticket: int, data: Any, error: str) -> None:
        done = self._waiting.pop(ticket, None)
        if done is not None:
            done(data, error or None)
