"""The control commands, the same whether the backend or the CLI itself carries them out."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.auth.identity import Identity
from backend.auth.users import UserView
from backend.datadir import read_runtime
from backend.db.engine import Database
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.jobs.models import FINISHED
from backend.jobs.service import JobService, JobView
from backend.observability.audit import Actor, AuditEntry
from backend.records.data_plane import DataPlane
from backend.records.demo import load_demo
from backend.records.demo_data import DemoSize
from backend.settings import Settings
from backend.system.info import system_info
from backend.system.restore import RestoreRefused, RestoreRequest, check_restorable
from backend.system.saved_settings import SavedSettingsService


@dataclass(frozen=True)
class ControlContext:
    """What a command may use: the running settings and the database."""

    settings: Settings
    db: Database
    schema_revision: str
    started_at: datetime
    served_by: str  # "backend" or "cli": who carried the command out
    identity: Identity
    data: DataPlane
    jobs: JobService
    restore_later: Callable[[RestoreRequest], bool] | None = None  # the serving backend's; None in the CLI's own run


Command = Callable[[ControlContext, dict[str, Any]], Awaitable[Any]]


async def status(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Facts about the instance."""
    info = await system_info(ctx.settings, ctx.db, ctx.schema_revision, ctx.started_at)
    # The serving backend's URL, as it published it for clients; none when no backend runs.
    runtime = read_runtime(ctx.settings.paths) if ctx.served_by == "backend" else None
    return {
        **dataclasses.asdict(info),
        "started_at": info.started_at.isoformat(),
        "served_by": ctx.served_by,
        "url": (runtime or {}).get("url"),
    }


async def settings_list(ctx: ControlContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every setting with its value and source."""
    views = await SavedSettingsService(ctx.db, ctx.settings, ctx.identity.audit).view()
    return [dataclasses.asdict(view) for view in views]


async def settings_save(ctx: ControlContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Save settings (None forgets one) for the next start."""
    changes = args.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed("Give at least one setting to change.")
    views = await SavedSettingsService(ctx.db, ctx.settings, ctx.identity.audit).update(_actor(args), changes)
    return [dataclasses.asdict(view) for view in views]


def _actor(args: dict[str, Any]) -> Actor:
    # The control socket is owner-only, so whoever sent this is the data directory's owner.
    return Actor("system", None, f"cli ({str(args.get('os_user') or 'unknown')[:64]})", "local")


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"{name} is required.")
    return value


def _user(view: UserView) -> dict[str, Any]:
    return {**dataclasses.asdict(view), "created_at": view.created_at.isoformat()}


async def user_create(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Create a user with roles."""
    roles = args.get("roles") or []
    view = await ctx.identity.users.create(
        _actor(args),
        email=_text(args, "email"),
        display_name=str(args.get("display_name") or ""),
        password=_text(args, "password"),
        roles=[str(role) for role in roles],
    )
    return _user(view)


async def user_list(ctx: ControlContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every user."""
    return [_user(view) for view in await ctx.identity.users.list()]


async def user_disable(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Disable a user by email; their sessions end."""
    found = await ctx.identity.users.find(_text(args, "email"))
    return _user(await ctx.identity.users.update(_actor(args), found.id, is_active=False))


async def user_enable(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Enable a disabled user by email."""
    found = await ctx.identity.users.find(_text(args, "email"))
    return _user(await ctx.identity.users.update(_actor(args), found.id, is_active=True))


async def user_reset_password(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Set a user's password by email; their sessions end."""
    found = await ctx.identity.users.find(_text(args, "email"))
    await ctx.identity.users.reset_password(_actor(args), found.id, _text(args, "password"))
    return _user(found)


async def audit_verify(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Walk the audit chain and compare it with its anchor."""
    report = await ctx.identity.audit.verify(expect_rows=await ctx.identity.users.count() > 0)
    return {
        "ok": report.ok,
        "rows": report.rows,
        "anchored_position": report.anchored_position,
        "problems": report.problems,
    }


async def demo(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Make the demo collections and their records (scale 1 makes 10 400 records)."""
    scale = args.get("scale", 1.0)
    if not isinstance(scale, int | float) or not 0 < scale <= 100:
        raise ValidationFailed("scale must be a number above 0 and at most 100.")
    return await load_demo(ctx.data, _actor(args), DemoSize.scaled(scale))


def _job(view: JobView) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(view), default=str))  # datetimes as text


async def job_run(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Submit a job; the CLI's own run (no backend) waits for it to end, a backend answers at once."""
    kind, params = _text(args, "kind"), args.get("params") or {}
    if kind not in CLI_JOB_KINDS or not isinstance(params, dict):
        raise ValidationFailed(f"kind must be one of {', '.join(sorted(CLI_JOB_KINDS))}, with params an object.")
    view = await ctx.jobs.submit(_actor(args), kind, params)
    if ctx.served_by == "cli":
        while view.state not in FINISHED:
            await asyncio.sleep(0.05)  # polling the jobs table, the job's own truth
            view = await ctx.jobs.get(view.id)
    return _job(view)


async def job_get(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """One job, by id."""
    return _job(await ctx.jobs.get(_text(args, "id")))


async def backup_restore(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Have the serving backend restore a backup file: it stops serving, restores, and serves again."""
    source = Path(_text(args, "file"))
    if ctx.restore_later is None:
        raise Conflict("No backend serves this data directory: the CLI restores by itself.")
    try:
        await asyncio.to_thread(check_restorable, source)
    except RestoreRefused as refused:
        raise ValidationFailed(str(refused)) from None
    if not ctx.restore_later(RestoreRequest(source, _actor(args))):
        raise Conflict("The backend is already stopping, or restoring.")
    await ctx.identity.audit.record(AuditEntry("backup.restore.request", _actor(args), target=source.name))
    return {"restoring": source.name}


CLI_JOB_KINDS = frozenset({"backup", "export", "import"})
JOB_COMMANDS = frozenset({"job.run", "job.get"})

COMMANDS: dict[str, Command] = {
    "job.run": job_run,
    "job.get": job_get,
    "demo": demo,
    "status": status,
    "settings.list": settings_list,
    "settings.save": settings_save,
    "user.create": user_create,
    "user.list": user_list,
    "user.disable": user_disable,
    "user.enable": user_enable,
    "user.reset_password": user_reset_password,
    "audit.verify": audit_verify,
    "backup.restore": backup_restore,
}


async def dispatch(ctx: ControlContext, name: str, args: dict[str, Any]) -> Any:
    """Run one command by name."""
    command = COMMANDS.get(name)
    if command is None:
        raise NotFound(f"unknown control command {name!r}")
    return await command(ctx, args)
