"""The CLI's end: run a command in the backend that owns the data dir, or here if none does."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.auth.identity import Identity
from backend.auth.tokens import derive_key
from backend.control.commands import JOB_COMMANDS, ControlContext, dispatch
from backend.control.protocol import MAX_LINE_BYTES, ControlError, decode, encode
from backend.datadir import DataDirLock, is_locked, make_files_owner_only
from backend.db.factory import open_database
from backend.db.paging import CursorCodec
from backend.errors import OutpostError
from backend.jobs.queue import JobQueue
from backend.jobs.runner import open_jobs
from backend.jobs.schedule import Retention
from backend.records.data_plane import DataPlane
from backend.settings import Settings
from backend.shared_store import deployment_namespace, open_shared_store
from backend.startup import prepare_data_dir
from backend.system.restore import settle_restore

TIMEOUT_S = 60
LONG_COMMANDS = {"demo": 1800.0}  # seconds a command that fills tables may take before the CLI gives up


def call_backend(path: Path, command: str, args: dict[str, Any]) -> Any:
    """Send one command over the control socket and return its result."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(LONG_COMMANDS.get(command, TIMEOUT_S))
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise ControlError(f"cannot reach the running backend at {path}: {exc.strerror or exc}") from exc
        sock.sendall(encode({"command": command, "args": args}))
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            if len(buffer) > MAX_LINE_BYTES * 16:
                raise ControlError("the backend's reply is too large")
    if not buffer:
        raise ControlError("the backend closed the control channel without replying")
    reply = decode(buffer)
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error", "the command failed")), reply.get("errors"))
    return reply.get("result")


async def _run_here(settings: Settings, command: str, args: dict[str, Any]) -> Any:
    prepared = prepare_data_dir(settings)
    paths = prepared.settings.paths
    db = open_database(prepared.settings)
    queue = JobQueue(paths.queue)
    # Server mode: a user disabled or a key revoked here must reach the serving instances too.
    shared = open_shared_store(prepared.settings, deployment_namespace(prepared.secret))
    try:
        identity = Identity.open(db, prepared.secret, paths)
        if shared:
            shared.tell_others("access", identity.directory)
        cursors = CursorCodec(derive_key(prepared.secret, "cursor"))
        data = await DataPlane.open(db, identity.audit, cursors)
        running = prepared.settings
        retention = Retention(running.backup_interval_hours, running.backup_keep, running.jobs_keep_days)
        jobs, runner = open_jobs(
            asyncio.get_running_loop(), db, queue, data, identity.audit, cursors, paths, retention=retention
        )
        ctx = ControlContext(
            prepared.settings,
            db,
            prepared.migration.to_revision,
            datetime.now(UTC),
            served_by="cli",
            identity=identity,
            data=data,
            jobs=jobs,
        )
        await settle_restore(paths, identity.audit, jobs, queue)
        if command not in JOB_COMMANDS:
            return await dispatch(ctx, command, args)
        if prepared.settings.mode == "server":
            raise ControlError(
                f"{command} runs as a job: in server mode submit it through the API (a worker command comes later)"
            )
        # A job run by the CLI itself: this process holds the data dir, so it runs the workers meanwhile.
        await runner.recover_at_start()
        queue.start_consumer()
        try:
            return await dispatch(ctx, command, args)
        finally:
            runner.stopping.set()
            await asyncio.to_thread(queue.stop_consumer)
    finally:
        queue.close()
        await db.close()
        if shared:
            await shared.close()


def run_command(settings: Settings, command: str, args: dict[str, Any]) -> Any:
    """Carry out a data command through the running backend, or here under the data-dir lock.

    Server mode: here, on the server's database, always (it has no one owner to go through; PostgreSQL
    takes many writers).
    """
    paths = settings.paths
    if settings.database_url:
        paths.ensure()
        return _run_here_now(settings, command, args)
    if is_locked(paths):
        return call_backend(paths.control_socket, command, args)
    make_files_owner_only()
    paths.ensure()
    with DataDirLock(paths):
        return _run_here_now(settings, command, args)


def _run_here_now(settings: Settings, command: str, args: dict[str, Any]) -> Any:
    try:
        return asyncio.run(_run_here(settings, command, args))
    except OutpostError as exc:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        raise ControlError(exc.detail, errors) from exc
