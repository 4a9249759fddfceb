"""What every `outpost` command shares: --data-dir, settings from flags, failing plainly, control commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from backend.settings import SettingError, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """--data-dir, shared by every command."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Data directory (default: the platform's user data dir; env OUTPOST_DATA_DIR).",
    )(func)


def database_url_option(func: F) -> F:
    """--database-url: server mode's PostgreSQL."""
    return click.option(
        "--database-url",
        default=None,
        help="Server mode: the PostgreSQL database (postgresql://USER:PASSWORD@HOST/DATABASE). Prefer env "
        "OUTPOST_DATABASE_URL: a command line, password included, is visible to every user of the machine.",
    )(func)


def redis_url_option(func: F) -> F:
    """--redis-url: server mode's shared store."""
    return click.option(
        "--redis-url",
        default=None,
        help="Server mode: the Redis every instance and worker shares (redis://HOST:PORT/DB). Prefer env "
        "OUTPOST_REDIS_URL when it holds a password.",
    )(func)


def _settings(**flags: Any) -> Settings:
    try:
        return load_settings(flags, os.environ)
    except SettingError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.name.replace('_', '-')}") from exc


def _fail(message: str, errors: list[dict[str, str]] | None = None) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    for error in errors or []:
        click.echo(f"  {error['field']}: {error['message']}", err=True)
    sys.exit(1)


def _run(settings: Settings, command: str, args: dict[str, Any]) -> Any:
    """A control command carried out by the running backend, or here under the data dir's lock."""
    from backend.control.client import run_command
    from backend.control.protocol import ControlError
    from backend.datadir import DataDirBusy
    from backend.db.migrate import MigrationError
    from backend.observability.logging import configure_logging

    # Carried out here, the command's own logs go to stderr, and only warnings: stdout may be an export.
    configure_logging("WARNING")
    try:
        return run_command(settings, command, args)
    except (ControlError, DataDirBusy, MigrationError) as exc:
        _fail(getattr(exc, "message", str(exc)), getattr(exc, "errors", None))


def _identity_args(**args: Any) -> dict[str, Any]:
    """args with the OS user running the command (the audit log names it)."""
    import getpass

    return {**args, "os_user": getpass.getuser()}
