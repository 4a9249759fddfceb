"""The backend's end of the control channel: a Unix socket only the owner can open."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from backend.control.commands import ControlContext, dispatch
from backend.control.protocol import MAX_LINE_BYTES, decode, encode
from backend.datadir import FILE_MODE
from backend.errors import OutpostError

logger = structlog.get_logger("outpost.control")
READ_TIMEOUT_S = 10


class ControlServer:
    """Serves control commands to local CLI processes; filesystem permissions are the credential."""

    def __init__(self, path: Path, context: Callable[[], ControlContext]) -> None:
        self.path = path
        self.context = context
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen on the socket, created owner-only from the first instant."""
        self.path.unlink(missing_ok=True)
        previous = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE_BYTES)
        finally:
            os.umask(previous)
        os.chmod(self.path, FILE_MODE)

    async def close(self) -> None:
        """Stop listening and remove the socket."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            reply = await self._reply(reader)
            writer.write(encode(reply))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _reply(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        try:
            request = decode(await asyncio.wait_for(reader.readline(), READ_TIMEOUT_S))
            name = str(request["command"])
            args = request.get("args") or {}
        except (ValueError, KeyError, TimeoutError, asyncio.LimitOverrunError) as exc:
            return {"ok": False, "error": f"bad control request: {exc}"}
        logger.info("control command", command=name)
        try:
            return {"ok": True, "result": await dispatch(self.context(), name, args)}
        except OutpostError as exc:
            errors = [{"field": e.field, "message": e.message} for e in exc.errors]
            return {"ok": False, "error": exc.detail, "errors": errors}
        except Exception:
            logger.exception("control command failed", command=name)
            return {"ok": False, "error": "the backend failed to carry out the command; see its log"}
