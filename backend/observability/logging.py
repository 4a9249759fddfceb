"""Structured logs: JSON lines to a rotating file, readable lines on stderr, never stdout; secrets masked."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Any

import structlog

from backend.observability.access_log import BatchFormatter, access_console_line, access_json_line
from backend.observability.redaction import redact_secrets
from backend.observability.request_id import add_request_id

LOG_FILE = "outpost.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
LOG_FILE_MODE = 0o600

# Libraries whose DEBUG/INFO lines carry SQL parameters, rows and request bodies (password hashes,
# tokens): held at their own level, WARNING unless log_level_drivers asks for more.
DRIVER_LOGGERS = ("aiosqlite", "sqlalchemy", "asyncio", "httpx", "httpcore", "huey", "redis", "asyncpg")

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,  # a ContextVar of its own: binding structlog's contextvars per request cost more than the line
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

# Once per event, before any output sees it: the traceback as plain text (no local variables: they hold
# passwords and keys, and rich's pretty printing of them stalled the event loop for seconds), then every
# secret masked. Each output used to redo both, so an access line was masked twice.
_MASKED: list[structlog.types.Processor] = [structlog.processors.format_exc_info, redact_secrets]
# Records from the standard library's loggers (uvicorn, drivers) enter at the formatter instead.
_FOREIGN: list[structlog.types.Processor] = [*_SHARED, *_MASKED]
_CONSOLE_FIRST = ("timestamp", "level", "event", "logger", "exception", "stack")


def render_console_line(_logger: object, _method_name: str, event_dict: dict[str, Any]) -> str:
    """A readable line: time, [level], event, [logger], the other fields sorted; then any traceback.

    The shape of structlog's ConsoleRenderer without colours, at a fraction of its cost per line.
    """
    fields = " ".join(
        f"{name}={value if isinstance(value, str) else repr(value)}"
        for name, value in sorted(event_dict.items())
        if name not in _CONSOLE_FIRST and not name.startswith("_")
    )
    logger_name = event_dict.get("logger")
    line = (
        f"{event_dict.get('timestamp', '')} [{event_dict.get('level', ''):<9}] {event_dict.get('event', '')!s:<30}"
        f"{f' [{logger_name}]' if logger_name else ''}{' ' + fields if fields else ''}"
    )
    for block in ("stack", "exception"):
        if event_dict.get(block):
            line += "\n" + str(event_dict[block])
    return line


ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"


class AcceptLimitFilter(logging.Filter):
    """asyncio's report of a refused accept (the open file limit reached) as one plain warning, not a traceback.

    Under a burst of connections past the cap, accepted sockets waiting to be turned away can reach the
    limit for a moment; asyncio then pauses accepting for a second and tries again. That is overload
    handled, not a fault: it earns one line, not an ERROR with a traceback per refused accept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite asyncio's accept report in place; let every other record through unchanged."""
        if isinstance(record.msg, str) and record.msg.startswith(ACCEPT_OUT_OF_RESOURCES):
            reason = record.exc_info[1] if record.exc_info else None
            errno_name = getattr(reason, "errno", None)
            record.msg = (
                "new connections wait a moment: the open file limit is reached (errno %s); accepting again in 1 s"
            )
            record.args = (errno_name,)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class OwnerOnlyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file created owner-only, whatever the umask (rotated files are renames of it)."""

    def _open(self):  # type: ignore[no-untyped-def]
        def opener(path: str, flags: int) -> int:
            return os.open(path, flags, LOG_FILE_MODE)

        stream = open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=opener)  # noqa: SIM115
        os.chmod(self.baseFilename, LOG_FILE_MODE)  # a file left by an older version may be looser
        return stream

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 (logging's name)
        """Roll once the file has passed maxBytes (the stdlib formats every record twice to decide beforehand)."""
        if self.stream is None:
            self.stream = self._open()
        return 0 < self.maxBytes <= self.stream.tell()


def configure_logging(level: str = "INFO", log_dir: Path | None = None, drivers_level: str = "WARNING") -> None:
    """Route structlog and the standard library's loggers to stderr and the log file."""
    structlog.configure(
        processors=[*_SHARED, *_MASKED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(
        BatchFormatter(
            foreign_pre_chain=_FOREIGN,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, render_console_line],
            access_line=access_console_line,
        )
    )
    handlers.append(console)
    if log_dir is not None:
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        file_handler = OwnerOnlyRotatingFileHandler(
            log_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        file_handler.setFormatter(
            BatchFormatter(
                foreign_pre_chain=_FOREIGN,
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(),
                ],
                access_line=access_json_line,
            )
        )
        handlers.append(file_handler)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    # The more severe of the two: drivers never say more than the rest, and say DEBUG only when both ask.
    drivers = max(logging.getLevelNamesMapping()[level], logging.getLevelNamesMapping()[drivers_level])
    for name in DRIVER_LOGGERS:
        logging.getLogger(name).setLevel(drivers)
    asyncio_logger = logging.getLogger("asyncio")
    if not any(isinstance(existing, AcceptLimitFilter) for existing in asyncio_logger.filters):
        asyncio_logger.addFilter(AcceptLimitFilter())
    # uvicorn configures its own handlers unless told not to; we pass log_config=None and
    # let its records propagate here. Its access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
