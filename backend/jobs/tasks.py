"""The tasks the queue runs, and the kinds of job: thin functions over real services, reached through a JobContext."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.datadir import FILE_MODE
from backend.jobs.import_report import ImportReport
from backend.jobs.kinds import JobContext, JobFailed, JobFile, JobKind
from backend.records.export import FORMATS, RecordExport
from backend.records.import_source import ImportMapping, SourceRow, count_rows, read_rows
from backend.records.imports import ChunkRefused, RecordImporter
from backend.system.backups import BackupService

# application/vnd.sqlite3 would be exact, but client generators know no such type and drop the operation.
SQLITE_MEDIA_TYPE = "application/octet-stream"
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
    saved_as = f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{fmt}"  # what a person's copy is called
    return {
        "file": target.name,
        "download_name": saved_as,
        "rows": rows,
        "bytes": target.stat().st_size,
        "media_type": FORMATS[fmt],
    }


IMPORT_CHUNK_ROWS = 500  # rows per trip from the job's thread (written a slice per transaction)
REPORT_PREVIEW = 20  # problems shown in the job's result; the report file has them all


def import_records(ctx: JobContext) -> dict[str, Any]:
    """An uploaded file's rows into a collection, a chunk per transaction; a report of the rows left out.

    all_or_nothing checks every row first and writes nothing if any is at fault; skip_invalid writes
    the valid rows and reports the others. Either way the report lists each problem: row, field, message.
    """
    params = ctx.params
    name, fmt, mode = params["collection"], params["format"], params["mode"]
    source = ctx.paths.imports / params["file"]
    if not source.is_file():
        raise ValueError(f"the uploaded file is gone: uploads are kept {ctx.retention.jobs_keep_days} days")
    shape = ctx.run(lambda services: services.data.records.shape(name))
    mapping = ImportMapping(shape, params.get("mapping"))
    total = count_rows(source, fmt)
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
    report = ImportReport(ctx.paths.imports / f"{ctx.job_id}.report.csv", f"{name}-import-problems-{stamp}.csv")
    created = updated = 0
    if mode == "all_or_nothing":
        checked = 0
        for rows in _chunks(read_rows(source, fmt, mapping)):
            report.add(
                ctx.run(lambda services, rows=rows: RecordImporter(services.data.records).check(ctx.actor, name, rows))
            )
            checked += len(rows)
            ctx.progress(checked, 2 * total, f"checked {checked} of {total} rows")
        if report.count:
            raise JobFailed(
                f"{report.count} problems in the file: nothing was imported (see the report)",
                report.result(total=total, created=0, updated=0, preview=REPORT_PREVIEW),
            )
    done = total if mode == "all_or_nothing" else 0
    for rows in _chunks(read_rows(source, fmt, mapping)):
        try:
            outcome = ctx.run(
                lambda services, rows=rows: RecordImporter(services.data.records).write(
                    ctx.actor, name, rows, skip_invalid=mode == "skip_invalid"
                )
            )
        except ChunkRefused as refused:  # only all-or-nothing: a write since the check made these rows fail
            report.add(refused.problems)
            created, updated = created + refused.created, updated + refused.updated
            raise JobFailed(
                f"stopped at row {refused.problems[0].row}: {created + updated} rows were imported before it",
                report.result(total=total, created=created, updated=updated, preview=REPORT_PREVIEW),
            ) from None
        created, updated = created + outcome.created, updated + outcome.updated
        report.add(outcome.problems)
        done += len(rows)
        ctx.progress(done, 2 * total if mode == "all_or_nothing" else total, f"imported {created + updated} rows")
    source.unlink(missing_ok=True)  # imported: the upload is not kept (a failed job keeps it for a retry)
    return report.result(total=total, created=created, updated=updated, preview=REPORT_PREVIEW)


def _import_summary(result: Mapping[str, Any]) -> str:
    created, updated, left_out = result["created"], result["updated"], result.get("rows_with_problems", 0)
    said = f"imported {created + updated:,} rows ({created:,} created, {updated:,} updated)"
    return said + (f"; {left_out:,} rows left out (see the report)" if left_out else "")


def _chunks(rows: Iterator[SourceRow]) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= IMPORT_CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def create_backup(ctx: JobContext) -> dict[str, Any]:
    """A checked backup of the database in backups/, old ones pruned."""
    ctx.progress(0, 1, "copying the database")
    info = BackupService(ctx.paths, keep=ctx.retention.backup_keep).create()
    return {"file": info.name, "download_name": info.name, "bytes": info.size_bytes, "media_type": SQLITE_MEDIA_TYPE}


def clean_up(ctx: JobContext) -> dict[str, Any]:
    """Finished jobs older than the kept days go, with their files; stale uploads too; backups past the kept number."""
    keep_days = int(ctx.params.get("keep_days", ctx.retention.jobs_keep_days))
    before = datetime.now(UTC) - timedelta(days=keep_days)
    removed_jobs = ctx.run(lambda services: services.jobs.purge_finished(before))
    in_use = set(ctx.run(lambda services: services.jobs.files_in_use()))
    removed_files = 0
    for folder in (ctx.paths.exports, ctx.paths.imports):
        for path in folder.glob("*"):
            stale = path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < before
            if stale and path.name not in in_use:
                path.unlink(missing_ok=True)
                removed_files += 1
        ctx.checkpoint()
    pruned = BackupService(ctx.paths, keep=ctx.retention.backup_keep).prune()
    return {"jobs": removed_jobs, "files": removed_files, "backups": len(pruned)}


def _import_title(params: Mapping[str, Any]) -> str:
    how = "skipping bad rows" if params.get("mode") == "skip_invalid" else "all or nothing"
    return f"Import into {params.get('collection')} from {str(params.get('format', '')).upper()} ({how})"


def _export_title(params: Mapping[str, Any]) -> str:
    filtered = " (filtered)" if params.get("filter") else ""
    return f"Export of {params.get('collection')} as {str(params.get('format', '')).upper()}{filtered}"


JOB_KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(
            "wait",
            wait,
            title=lambda params: f"Wait {float(params.get('seconds', 1)):g} s",
            max_attempts=2,
            summary=lambda result: f"waited {result['seconds']:g} s",
        ),
        JobKind(
            "export",
            export_records,
            title=_export_title,
            timeout_s=6 * 3600,
            file=JobFile(lambda paths: paths.exports, lambda params: f"records:read:{params['collection']}"),
            summary=lambda result: f"exported {result['rows']:,} records",
        ),
        JobKind(
            "import",
            import_records,
            title=_import_title,
            timeout_s=12 * 3600,
            file=JobFile(lambda paths: paths.imports, lambda params: f"records:write:{params['collection']}"),
            summary=_import_summary,
        ),
        JobKind(
            "cleanup",
            clean_up,
            title=lambda params: "Clean-up of old jobs and files",
            max_attempts=1,
            summary=lambda done: f"removed {done['jobs']} jobs, {done['files']} files, {done['backups']} backups",
        ),
        JobKind(
            "backup",
            create_backup,
            title=lambda params: "Backup of the database",
            lock=lambda params: "database-file",
            file=JobFile(lambda paths: paths.backups, lambda params: "backups:read"),
            summary=lambda result: f"copied and checked: {result['file']}",
        ),
    )
}
