"""The control commands, the same whether the backend or the CLI itself carries them out."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.db.engine import Database
from backend.errors import NotFound, ValidationFailed
from backend.settings import Settings
from backend.system.info import system_info
from backend.system.saved_settings import SavedSettingsService


@dataclass(frozen=True)
class ControlContext:
    """What a command may use: the running settings and the database."""

    settings: Settings
    db: Database
    schema_revision: str
    started_at: datetime
    served_by: str  # "backend" or "cli": who carried the command out


Command = Callable[[ControlContext, dict[str, Any]], Awaitable[Any]]


async def status(ctx: ControlContext, args: dict[str, Any]) -> dict[str, Any]:
    """Facts about the instance."""
    info = system_info(ctx.settings, ctx.db, ctx.schema_revision, ctx.started_at)
    return {**dataclasses.asdict(info), "started_at": info.started_at.isoformat(), "served_by": ctx.served_by}


async def settings_list(ctx: ControlContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every setting with its value and source."""
    views = await SavedSettingsService(ctx.db, ctx.settings).view()
    return [dataclasses.asdict(view) for view in views]


async def settings_save(ctx: ControlContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Save settings (None forgets one) for the next start."""
    changes = args.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed("Give at least one setting to change.")
    views = await SavedSettingsService(ctx.db, ctx.settings).update(changes)
    return [dataclasses.asdict(view) for view in views]


COMMANDS: dict[str, Command] = {
    "status": status,
    "settings.list": settings_list,
    "settings.save": settings_save,
}


async def dispatch(ctx: ControlContext, name: str, args: dict[str, Any]) -> Any:
    """Run one command by name."""
    command = COMMANDS.get(name)
    if command is None:
        raise NotFound(f"unknown control command {name!r}")
    return await command(ctx, args)
