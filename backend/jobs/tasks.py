"""The tasks the queue runs, and the kinds of job: thin functions over real services, reached through a JobContext."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from backend.datadir import FILE_MODE
from backend.jobs.kinds import JobContext, JobFile, JobKind
from backend.records.export import FORMATS, RecordExport
from backend.system.backups import BackupService

MAX_WAIT_S = 3600.0
_TICK_S = 0.05


def echo(value: str) -> str:
    """Return value: proves a task went through the queue and a worker and came back."""
    return value


TASKS: dict[str, Callable[..., Any]] = {"echo": echo}


def wait(ctx: JobContext) -> dict[str, Any]:
    """Wait params["seconds"], reporting progress: proves workers, progress and cancellation end to end."""
    seconds = float(ctx.params.get("seconds", 1.0))
    ticks = max(1, int(seconds / _TICK_S))
    pause = threading.Event()  # never set: wait() is a timed pause that a test cannot mistake for sync
    for tick in range(1, ticks + 1):
        pause.wait(seconds / ticks)
        ctx.progress(tick, ticks, f"waited {tick * seconds / ticks:.1f} of {seconds:g} s")
    return {"seconds": seconds}


def export_records(ctx: JobContext) -> dict[str, Any]:
    """A collection's records to a file in exports/, in one snapshot, with progress per chunk."""
    name, fmt, filter_text = ctx.params["collection"], ctx.params["format"], ctx.params.get("filter")
    shape = ctx.run(lambda services: services.data.records.shape(name))
    export = RecordExport(shape, filter_text, fmt)
    target = ctx.paths.exports / f"{ctx.job_id}.{fmt}"
    partial = target.with_name(target.name + ".part")

    def write(connection: Any) -> int:
        total = export.count_in(connection)
        ctx.progress(0, total, f"0 of {total} records")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            return export.write_in(
                connection, out, lambda done: ctx.progress(done, total, f"{done} of {total} records")
            )

    try:
        rows = ctx.read(write)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return {"file": target.name, "rows": rows, "bytes": target.stat().st_size, "media_type": FORMATS[fmt]}


def create_backup(ctx: JobContext) -> dict[str, Any]:
    """A checked backup of the database in backups/, old ones pruned."""
    ctx.progress(0, 1, "copying the database")
    info = BackupService(ctx.paths).create()
    return {"file": info.name, "bytes": info.size_bytes}


def _export_title(params: Mapping[str, Any]) -> str:
    filtered = " (filtered)" if params.get("filter") else ""
    return f"Export of {params.get('collection')} as {str(params.get('format', '')).upper()}{filtered}"


JOB_KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("wait", wait, title=lambda params: f"Wait {params.get('seconds', 1)} s", max_attempts=2),
        JobKind(
            "export",
            export_records,
            title=_export_title,
            timeout_s=6 * 3600,
            file=JobFile(lambda paths: paths.exports, lambda params: f"records:read:{params['collection']}"),
        ),
        JobKind(
            "backup",
            create_backup,
            title=lambda params: "Backup of the database",
            lock=lambda params: "database-file",
            file=JobFile(lambda paths: paths.backups, lambda params: "backups:read"),
        ),
    )
}
