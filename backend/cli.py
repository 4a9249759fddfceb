"""`outpost`: the console (default), serve, migrate, status, settings, user, audit, backup, export, import, selftest."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from backend import __version__
from backend.cli_support import (
    _fail,
    _identity_args,
    _run,
    _settings,
    data_dir_option,
    database_url_option,
    redis_url_option,
)
from backend.cli_transfer import backup, export_records, import_records
from backend.db.urls import shown_database_url
from backend.settings import SAVABLE, Settings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="outpost", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Outpost: an offline-first backend with a desktop admin console.

    With no command, opens the console (same as `outpost gui`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(gui)


@cli.command()
@data_dir_option
@click.option(
    "--quit-when-shown",
    is_flag=True,
    help="Open the window on this display, then quit once it is shown (checks the console can start here).",
)
def gui(data_dir: str | None, quit_when_shown: bool) -> None:
    """Open the desktop console (starts or attaches to the local backend)."""
    # The one import of desktop: its launcher checks the machine before Qt loads (exit 1 naming what is missing).
    from desktop.launch import launch

    sys.exit(launch(data_dir=data_dir, quit_when_shown=quit_when_shown))


@cli.command()
@data_dir_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, loopback only).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8765; 0 picks a free port).")
@click.option("--allowed-hosts", default=None, help="Comma-separated extra Host names to answer to.")
@click.option("--cors-origins", default=None, help="Comma-separated browser origins allowed (default none).")
@click.option(
    "--trusted-proxies",
    default=None,
    help="Comma-separated reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client.",
)
@click.option("--secret-file", type=click.Path(dir_okay=False), default=None, help="File with the signing secret.")
@database_url_option
@redis_url_option
@click.option("--sqlite-synchronous", type=click.Choice(["FULL", "NORMAL"], case_sensitive=False), default=None)
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.option(
    "--log-level-drivers",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Level of the database/HTTP/queue libraries' own logs (default WARNING; their DEBUG lines hold secrets).",
)
@click.option(
    "--free-port-if-taken",
    is_flag=True,
    help="If the port is in use, listen on a free one instead and say so (the console starts its backend so).",
)
def serve(free_port_if_taken: bool, **flags: Any) -> None:
    """Run the backend: the REST API on loopback and the control channel."""
    from backend.server import run_serve

    sys.exit(run_serve(_settings(**flags), free_port_if_taken=free_port_if_taken))


@cli.command()
@data_dir_option
@database_url_option
@redis_url_option
@click.option("--secret-file", type=click.Path(dir_okay=False), default=None, help="File with the signing secret.")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Jobs run at once.")
def worker(threads: int, **flags: Any) -> None:
    """Run server mode's jobs from the shared queue (start as many as the load needs); stops on SIGTERM."""
    from backend.worker import run_worker

    sys.exit(run_worker(_settings(**flags), threads))


@cli.command()
@data_dir_option
@database_url_option
def migrate(data_dir: str | None, database_url: str | None) -> None:
    """Bring the database to this version's schema (backing it up first)."""
    from backend.datadir import DataDirBusy, DataDirLock, make_files_owner_only
    from backend.db.factory import migrate as migrate_database
    from backend.db.migrate import MigrationError

    settings = _settings(data_dir=data_dir, database_url=database_url)
    make_files_owner_only()
    paths = settings.paths.ensure()
    try:
        with DataDirLock(paths):
            result = migrate_database(settings)
    except DataDirBusy as exc:
        _fail(f"{exc}; it migrated the database when it started. Stop it to migrate by hand.")
    except MigrationError as exc:
        _fail(str(exc))
    if not result.changed:
        click.echo(f"Database already at revision {result.to_revision}.")
        return
    where = (settings.database_url and shown_database_url(settings.database_url)) or paths.database
    click.echo(f"Migrated {where} from {result.from_revision or 'empty'} to {result.to_revision}.")
    if result.backup:
        click.echo(f"Backup of the previous database: {result.backup}")


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(data_dir: str | None, as_json: bool) -> None:
    """Show the instance: version, data dir, database, and whether a backend is running."""
    info = _run(_settings(data_dir=data_dir), "status", {})
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    _print_status(info)


MODE_WORDS = {
    "embedded": "embedded mode: a file in the data dir, no database server",
    "server": "server mode: PostgreSQL and Redis",
}


def _print_status(info: dict[str, Any]) -> None:
    """status in plain words (--json keeps the raw keys)."""
    mode = MODE_WORDS.get(info["mode"], f"{info['mode']} mode")
    size_kib = info["database_bytes"] / 1024
    where = "in" if info["mode"] == "embedded" else "at"  # a file in the data dir, or a server's address
    if info["served_by"] == "backend":
        backend_line = f"running since {info['started_at']}, pid {info['pid']}"
        answered = f"the running backend (pid {info['pid']})"
        url = info.get("url") or "unknown"
    else:
        backend_line = "not running (start one with: outpost serve, or open the console)"
        answered = "this command (no backend is running, so it opened the database itself)"
        url = "none (no backend is running)"
    rows = [
        ("version", f"Outpost {info['version']}"),
        ("data dir", info["data_dir"]),
        ("database", f"{info['database_engine']} {where} {info['database_path']} ({mode})"),
        ("database size", f"{size_kib:,.0f} KiB, schema revision {info['schema_revision']}"),
        ("backend", backend_line),
        ("url", url),
        ("answered by", answered),
    ]
    for label, value in rows:
        click.echo(f"{label:>13}: {value}")


@cli.group()
def settings() -> None:
    """Saved settings (applied on the next start; flags and env still win)."""


def _print_settings(items: list[dict[str, Any]]) -> None:
    for item in items:
        value = item["value"]
        shown = ",".join(value) if isinstance(value, list) else value
        note = f"  (saved: {item['saved']}; restart to apply)" if item["restart_required"] else ""
        if item.get("saved_error"):
            note += f"  (saved value ignored: {item['saved_error']})"
        click.echo(f"{item['name']:>20} = {shown}  [{item['source']}]{note}")


@settings.command("list")
@data_dir_option
def settings_list(data_dir: str | None) -> None:
    """List every setting with its value and where it comes from."""
    _print_settings(_run(_settings(data_dir=data_dir), "settings.list", {}))


@settings.command("set")
@data_dir_option
@click.argument("name", type=click.Choice(sorted(SAVABLE)))
@click.argument("value")
def settings_set(data_dir: str | None, name: str, value: str) -> None:
    """Save NAME=VALUE for the next start (lists are comma-separated)."""
    _print_settings(_run(_settings(data_dir=data_dir), "settings.save", _identity_args(changes={name: value})))


@settings.command("unset")
@data_dir_option
@click.argument("name", type=click.Choice(sorted(SAVABLE)))
def settings_unset(data_dir: str | None, name: str) -> None:
    """Forget the saved value of NAME."""
    _print_settings(_run(_settings(data_dir=data_dir), "settings.save", _identity_args(changes={name: None})))


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice at a terminal (never a flag: flags show in ps)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("--password-stdin: standard input held no password")
        return password
    if not sys.stdin.isatty():
        _fail("give the password on standard input with --password-stdin, or run this at a terminal")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _print_user(user: dict[str, Any]) -> None:
    state = "active" if user["is_active"] else "disabled"
    click.echo(f"{user['email']:<32} {user['display_name']:<24} {','.join(user['roles']) or '-':<16} {state}")


@cli.group()
def user() -> None:
    """Users: create, list, disable, enable, reset a password."""


@user.command("create")
@data_dir_option
@click.option("--email", required=True, help="Sign-in email (unique, any case).")
@click.option("--name", "display_name", default="", help="Display name (default: the email's local part).")
@click.option("--role", "roles", multiple=True, help="A role to give (repeatable): admin, editor, viewer or custom.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(
    data_dir: str | None, email: str, display_name: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user (through the running backend if there is one)."""
    password = _read_password(password_stdin)
    args = _identity_args(email=email, display_name=display_name, roles=list(roles), password=password)
    created = _run(_settings(data_dir=data_dir), "user.create", args)
    click.echo(f"Created {created['email']} with roles {', '.join(created['roles']) or 'none'}.")


@user.command("list")
@data_dir_option
def user_list(data_dir: str | None) -> None:
    """List every user."""
    for found in _run(_settings(data_dir=data_dir), "user.list", {}):
        _print_user(found)


@user.command("disable")
@data_dir_option
@click.argument("email")
def user_disable(data_dir: str | None, email: str) -> None:
    """Disable a user: they cannot sign in, and their sessions end at once."""
    _print_user(_run(_settings(data_dir=data_dir), "user.disable", _identity_args(email=email)))


@user.command("enable")
@data_dir_option
@click.argument("email")
def user_enable(data_dir: str | None, email: str) -> None:
    """Enable a disabled user."""
    _print_user(_run(_settings(data_dir=data_dir), "user.enable", _identity_args(email=email)))


@user.command("reset-password")
@data_dir_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def user_reset_password(data_dir: str | None, email: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end."""
    password = _read_password(password_stdin)
    _run(_settings(data_dir=data_dir), "user.reset_password", _identity_args(email=email, password=password))
    click.echo(f"Password of {email} changed; their sessions are ended.")


@cli.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@data_dir_option
def audit_verify(data_dir: str | None) -> None:
    """Check the audit chain: exit 0 if intact, 1 naming each edited, deleted or missing row."""
    report = _run(_settings(data_dir=data_dir), "audit.verify", {})
    if report["ok"]:
        click.echo(f"audit log intact: {report['rows']} rows, anchored at row {report['anchored_position']}")
        return
    click.echo(f"audit log TAMPERED ({report['rows']} rows):", err=True)
    for problem in report["problems"]:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@cli.command()
@data_dir_option
@click.option(
    "--scale",
    type=click.FloatRange(0, 100, min_open=True),
    default=1.0,
    show_default=True,
    help="Size of the dataset: 1 makes 400 sites, 2 000 pieces of equipment and 8 000 inspections.",
)
def demo(data_dir: str | None, scale: float) -> None:
    """Make a demo dataset to explore: sites, their equipment and inspections, with relations."""
    done = _run(_settings(data_dir=data_dir), "demo", _identity_args(scale=scale))
    made = ", ".join(f"{count} {name}" for name, count in done["collections"].items())
    click.echo(f"Demo data made in {done['seconds']} s: {made}.")


def _selftest_window(settings: Settings) -> str:
    # Imported inside the check, so a machine without Qt's libraries fails this check by name.
    from desktop.launch import selftest_window

    return selftest_window(settings.paths.root)


@cli.command()
@click.option("--headless", is_flag=True, help="Skip the window check (servers without GL libraries).")
def selftest(headless: bool) -> None:
    """Check every part on a temporary data dir: migrations, database, Argon2id, cache, queue, window."""
    from backend.selftest import run_selftest, summary_line

    extra = [] if headless else [("window", _selftest_window)]
    outcomes = run_selftest(extra)
    click.echo(summary_line(outcomes))
    sys.exit(0 if all(outcome.ok for outcome in outcomes) else 1)


cli.add_command(backup)
cli.add_command(export_records)
cli.add_command(import_records)


def main() -> None:
    """Entry point of the `outpost` console script and of the executable."""
    cli(prog_name="outpost")
