"""The access log: one line per request, kept for a moment and written in batches, not on the request's path."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from backend.observability.redaction import redact_text

LOGGER_NAME = "outpost.access"
FLUSH_AFTER_S = 0.2  # the longest a line waits to be written
MAX_PENDING = 1000
# The attribute of a batch's log record holding its lines' event dicts (see BatchFormatter).
BATCH = "access_batch"


class AccessLog:
    """Access lines buffered on the event loop and handed to logging as one record per batch.

    Through structlog and two handlers one line cost more than the framework's whole answer to a
    request; now a request costs a tuple appended to a list, and each handler renders a batch with the
    same renderer as every other line (see BatchFormatter) and writes it at once.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger(LOGGER_NAME)
        self._pending: list[tuple[float, str, str, int, float, str, str]] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, method: str, path: str, status: int, duration_ms: float, client: str, request_id: str) -> None:
        """Queue one request's line; call on the event loop."""
        if not self._logger.isEnabledFor(logging.INFO):
            return
        self._pending.append((time.time(), method, path, status, duration_ms, client, request_id))
        if len(self._pending) >= MAX_PENDING:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        """Write every queued line now (the app calls this as it stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        record = self._logger.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, "request", (), None)
        setattr(record, BATCH, [_event(*line) for line in pending])
        self._logger.handle(record)


def _event(
    at: float, method: str, path: str, status: int, duration_ms: float, client: str, request_id: str
) -> dict[str, Any]:
    """One line's fields, as structlog's processors would have made them."""
    return {
        "method": method,
        # The path only, never the query string; still masked, in case a path carries a secret.
        "path": redact_text(path),
        "status": status,
        "duration_ms": duration_ms,
        "client": client,
        "event": "request",
        "request_id": request_id,
        "logger": LOGGER_NAME,
        "level": "info",
        "timestamp": _timestamp(at),
    }


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _timestamp(at: float) -> str:
    """at as structlog's ISO UTC timestamp; the date and time are formatted once a second, not once a line."""
    whole = int(at)
    if _second[0] != whole:
        _second[:] = [whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{int((at - whole) * 1_000_000):06d}Z"


def access_console_line(event: dict[str, Any]) -> str:
    """An access line as render_console_line (observability/logging.py) writes it, its fields known in advance."""
    return (
        f"{event['timestamp']} [info     ] request                        [{LOGGER_NAME}] client={event['client']}"
        f" duration_ms={event['duration_ms']!r} method={event['method']} path={event['path']}"
        f" request_id={event['request_id']} status={event['status']!r}"
    )


access_json_line: Callable[[dict[str, Any]], str] = json.JSONEncoder().encode  # one encoder, not one per line


class BatchFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, which also renders an access batch: each line with this formatter's processors.

    access_line, if given, renders an access line straight away: the same text as the processors
    would make (a test holds them to it) at a fraction of their cost, which was paid on every request.
    """

    def __init__(self, *args: Any, access_line: Callable[[dict[str, Any]], str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_line = access_line

    def format(self, record: logging.LogRecord) -> str:
        """The record's line, or a batch's lines joined by newlines."""
        events = getattr(record, BATCH, None)
        if events is None:
            return super().format(record)
        if self.access_line is not None:
            return "\n".join(map(self.access_line, events))
        lines = []
        for event in events:
            rendered: Any = {**event, "_record": record, "_from_structlog": True}
            for processor in self.processors:
                rendered = processor(None, "info", rendered)
            lines.append(rendered)
        return "\n".join(lines)


ACCESS_LOG = AccessLog()
