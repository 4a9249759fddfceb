"""`outpost backup`, `outpost export` and `outpost import`: the jobs of the API, from the command line.

With a backend running, the job runs there (submitted over the control channel, followed here); without
one, this process takes the data dir's lock and runs it itself. Either way it is a job like any other:
in the jobs table, audited, and shown in the console.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from backend.cli_support import _fail, _identity_args, _run, _settings, data_dir_option
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.observability.audit import Actor

FINISHED = ("succeeded", "failed", "cancelled")
FOLLOW_EVERY_S = 0.25


def _follow(settings: Settings, job: dict[str, Any]) -> dict[str, Any]:
    """The job once it has ended, its progress shown on stderr meanwhile."""
    shown = ""
    while job["state"] not in FINISHED:
        line = f"{job['progress']:3d}%  {job['message']}"
        if line != shown and sys.stderr.isatty():
            click.echo(f"\r{line[:78]:<78}", err=True, nl=False)
            shown = line
        time.sleep(FOLLOW_EVERY_S)  # the backend's jobs table is polled: it is the job's truth
        job = _run(settings, "job.get", {"id": job["id"]})
    if shown:
        click.echo("", err=True)
    return job


def _job(settings: Settings, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run a job of kind to its end; exit 1 with its error if it did not succeed."""
    job = _follow(settings, _run(settings, "job.run", _identity_args(kind=kind, params=params)))
    if job["state"] != "succeeded":
        _fail(f"the {kind} {job['state']}: {job['error'] or job['message']} (job {job['id']})")
    return job


@click.group()
def backup() -> None:
    """Back up and restore the database."""


@backup.command("create")
@data_dir_option
def backup_create(data_dir: str | None) -> None:
    """Take a backup now (while the backend, if running, goes on writing); checked, then old ones pruned."""
    settings = _settings(data_dir=data_dir)
    job = _job(settings, "backup", {})
    click.echo(str(settings.paths.backups / job["result"]["file"]))


@backup.command("list")
@data_dir_option
def backup_list(data_dir: str | None) -> None:
    """List the backups, newest first."""
    from backend.system.backups import BackupService

    for info in BackupService(_settings(data_dir=data_dir).paths).list():
        click.echo(f"{info.created_at:%Y-%m-%d %H:%M:%S}Z  {info.size_bytes / 1e6:9.1f} MB  {info.name}")


@backup.command("restore")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def backup_restore(data_dir: str | None, file: Path, yes: bool) -> None:
    """Replace the database with FILE (the current one is kept in backups/ first).

    A running backend does it: it stops serving, restores, and serves again at the same address.
    """
    from backend.datadir import DataDirBusy, DataDirLock, is_locked, make_files_owner_only
    from backend.db.migrate import MigrationError
    from backend.system.restore import RestoreRefused, restore_database

    settings = _settings(data_dir=data_dir)
    if not yes and not click.confirm(f"Replace the database in {settings.paths.root} with {file}?"):
        _fail("not restored")
    make_files_owner_only()
    if is_locked(settings.paths):
        _run(settings, "backup.restore", _identity_args(file=str(file.resolve())))
        click.echo(f"The backend is restoring {file.name}; it serves again at the same address once it is done.")
        return
    try:
        with DataDirLock(settings.paths.ensure()):
            done = restore_database(
                settings.paths, file.resolve(), _cli_actor(), synchronous=settings.sqlite_synchronous
            )
    except DataDirBusy:  # a backend started between the two checks
        _fail("a backend started on this data directory meanwhile: run the restore again")
    except (RestoreRefused, MigrationError) as exc:
        _fail(str(exc))
    click.echo(f"Restored {settings.paths.database} from {done.restored_from}.")
    if done.previous:
        click.echo(f"The database as it was is kept in {done.previous}.")


def _cli_actor() -> Actor:
    """Who restores from the command line, as the audit log names them."""
    import getpass

    from backend.observability.audit import Actor

    return Actor("system", None, f"cli ({getpass.getuser()[:64]})", "local")


@click.command("export")
@data_dir_option
@click.argument("collection")
@click.option("--format", "file_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--filter", "filter_text", default=None, help="Only the records that match, e.g. 'region = \"North\"'.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default: stdout)."
)
def export_records(
    data_dir: str | None, collection: str, file_format: str, filter_text: str | None, output: Path | None
) -> None:
    """Write COLLECTION's records as CSV or JSON Lines."""
    settings = _settings(data_dir=data_dir)
    params = {"collection": collection, "format": file_format, "filter": filter_text}
    job = _job(settings, "export", params)
    made = settings.paths.exports / job["result"]["file"]
    if output is None:
        with made.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
        return
    shutil.copyfile(made, output)
    click.echo(f"{job['result']['rows']} records written to {output}.", err=True)


@click.command("import")
@data_dir_option
@click.argument("collection")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(["csv", "jsonl"]), help="Default: from FILE's suffix.")
@click.option(
    "--mode",
    type=click.Choice(["all_or_nothing", "skip_invalid"]),
    default="all_or_nothing",
    show_default=True,
    help="Refuse the whole file if a row is at fault, or import the rest and report them.",
)
@click.option("--mapping", default=None, help='JSON object of column names to field names: \'{"Site code": "code"}\'.')
def import_records(
    data_dir: str | None, collection: str, file: Path, file_format: str | None, mode: str, mapping: str | None
) -> None:
    """Import FILE's rows into COLLECTION; a row with the id of a record updates it."""
    from backend.db.ids import new_id

    settings = _settings(data_dir=data_dir)
    fmt = file_format or ("jsonl" if file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    try:
        chosen = json.loads(mapping) if mapping else None
    except ValueError:
        _fail("--mapping is not JSON")
    # The file goes where the API's uploads go, owner-only: the job reads it there, whoever runs it.
    paths = settings.paths.ensure()
    upload = f"{new_id()}.{fmt}"
    shutil.copyfile(file, paths.imports / upload)
    (paths.imports / upload).chmod(0o600)
    params = {"collection": collection, "format": fmt, "mode": mode, "mapping": chosen, "file": upload}
    job = _follow(settings, _run(settings, "job.run", _identity_args(kind="import", params=params)))
    result = job.get("result") or {}
    if result:
        click.echo(
            f"{result.get('created', 0)} created, {result.get('updated', 0)} updated, "
            f"{result.get('rows_with_problems', 0)} rows with problems."
        )
    if result.get("file"):
        click.echo(f"Report of the problems: {paths.imports / result['file']}")
    if job["state"] != "succeeded":
        _fail(f"the import {job['state']}: {job['error'] or job['message']} (job {job['id']})")
