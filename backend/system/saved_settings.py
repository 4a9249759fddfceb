"""Saved settings: validated against the setting specs, applied on the next start."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert

from backend.db.engine import Database
from backend.errors import FieldError, ValidationFailed
from backend.settings import SAVABLE, SPECS, SPECS_BY_NAME, SettingError, Settings
from backend.system.models import SavedSetting


@dataclass(frozen=True)
class SettingView:
    """One setting as an administrator sees it: running value, saved value, what a restart changes."""

    name: str
    value: Any
    source: str
    savable: bool
    help: str
    saved: Any
    restart_required: bool


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def read_saved_settings(database: Path) -> dict[str, Any]:
    """Saved settings read at start-up, before the async engine exists."""
    if not database.exists():
        return {}
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT key, value FROM saved_settings").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
    return {key: json.loads(value) for key, value in rows if key in SAVABLE}


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Parsed values for the changes (None means 'forget the saved value'), or ValidationFailed."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name, raw in changes.items():
        if name not in SPECS_BY_NAME:
            errors.append(FieldError(name, "is not a setting"))
        elif name not in SAVABLE:
            errors.append(FieldError(name, "can only be set by a command-line flag or environment variable"))
        elif raw is None:
            parsed[name] = None
        else:
            try:
                parsed[name] = _plain(SPECS_BY_NAME[name].parse(raw))
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(name, str(SettingError(name, str(exc)).message)))
    if errors:
        raise ValidationFailed("Some settings were not accepted; nothing was saved.", errors=errors)
    return parsed


class SavedSettingsService:
    """Reads and writes saved settings through the database's single writer."""

    def __init__(self, db: Database, running: Settings) -> None:
        self.db = db
        self.running = running

    async def saved(self) -> dict[str, Any]:
        """Every saved value by name."""
        async with self.db.read() as session:
            rows = (await session.execute(select(SavedSetting.key, SavedSetting.value))).all()
        return {key: value for key, value in rows if key in SAVABLE}

    async def view(self) -> list[SettingView]:
        """All settings with their running values, saved values and pending changes."""
        saved = await self.saved()
        views = []
        for spec in SPECS:
            running = _plain(getattr(self.running, spec.name))
            source = self.running.sources.get(spec.name, "default")
            saved_value = saved.get(spec.name)
            if source in ("flag", "env"):
                next_value = running
            elif saved_value is not None:
                next_value = _plain(spec.parse(saved_value))
            else:
                next_value = _plain(spec.default)
            views.append(
                SettingView(
                    name=spec.name,
                    value=running,
                    source=source,
                    savable=spec.savable,
                    help=spec.help,
                    saved=saved_value,
                    restart_required=next_value != running,
                )
            )
        return views

    async def update(self, changes: Mapping[str, Any]) -> list[SettingView]:
        """Save (or forget, for None) each change atomically; all or nothing."""
        parsed = validate_changes(changes)
        now = datetime.now(UTC)
        async with self.db.write() as session:
            for name, value in parsed.items():
                if value is None:
                    await session.execute(delete(SavedSetting).where(SavedSetting.key == name))
                else:
                    statement = insert(SavedSetting).values(key=name, value=value, updated_at=now)
                    await session.execute(
                        statement.on_conflict_do_update(
                            index_elements=[SavedSetting.key],
                            set_={"value": statement.excluded.value, "updated_at": now},
                        )
                    )
        return await self.view()
