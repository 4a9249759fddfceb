"""Saved settings: validated against the setting specs, applied on the next start."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from backend.auth.permissions import WILDCARD, allows
from backend.db.engine import Database
from backend.db.factory import read_at_start
from backend.db.upserts import insert_on_conflict
from backend.errors import FieldError, Forbidden, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail
from backend.settings import ADMIN_ONLY, SAVABLE, SPECS, SPECS_BY_NAME, SettingError, Settings
from backend.system.models import SavedSetting

logger = logging.getLogger("outpost.settings")


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
    saved_error: str | None = None  # why a saved value is ignored (it cannot be read, or is no longer valid)


@dataclass(frozen=True)
class SavedValues:
    """Saved settings as read: the usable values, and why each unusable one is ignored."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def log_problems(self) -> None:
        """A warning naming each saved setting that is ignored."""
        for name, why in self.problems.items():
            logger.warning("saved setting %s is ignored: %s", name, why)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def encode_saved(value: Any) -> str:
    """The JSON text a setting is stored as."""
    return json.dumps(value, separators=(",", ":"))


def decode_saved(rows: Iterable[tuple[str, Any]]) -> SavedValues:
    """Stored (key, JSON text) rows as values, each one that cannot be read or used set aside with the reason."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, stored in rows:
        if name not in SAVABLE:
            continue  # not a setting this version saves (a newer one's, say): not ours to judge
        if not isinstance(stored, str):
            problems[name] = f"stored as {type(stored).__name__} {stored!r}, not as JSON text"
            continue
        try:
            value = json.loads(stored)
        except ValueError:
            problems[name] = f"{stored[:40]!r} is not JSON"
            continue
        try:
            SPECS_BY_NAME[name].parse(value)
        except (TypeError, ValueError) as exc:
            problems[name] = f"{value!r} is not a valid value: {exc}"
            continue
        values[name] = value
    return SavedValues(values, problems)


def read_saved_settings(settings: Settings) -> SavedValues:
    """Saved settings read at start-up (once migrated), before the async engine exists."""
    rows = read_at_start(
        settings,
        lambda connection: [tuple(row) for row in connection.execute(select(SavedSetting.key, SavedSetting.value))],
    )
    return decode_saved(rows or [])


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


def _stored_value(stored: str) -> Any:
    """A stored value as the audit shows it: its JSON value, or the raw text if that cannot be read."""
    try:
        return json.loads(stored)
    except ValueError:
        return stored


class SavedSettingsService:
    """Reads and writes saved settings through the database's single writer; every change is audited."""

    def __init__(self, db: Database, running: Settings, audit: AuditTrail) -> None:
        self.db = db
        self.running = running
        self.audit = audit

    async def saved(self) -> SavedValues:
        """Every saved value by name, and the saved values that are ignored."""
        async with self.db.read() as session:
            rows = (await session.execute(select(SavedSetting.key, SavedSetting.value))).all()
        return decode_saved(rows)

    async def view(self) -> list[SettingView]:
        """All settings with their running values, saved values and pending changes."""
        saved = await self.saved()
        views = []
        for spec in SPECS:
            running = _plain(getattr(self.running, spec.name))
            source = self.running.sources.get(spec.name, "default")
            saved_value = saved.values.get(spec.name)
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
                    saved_error=saved.problems.get(spec.name),
                )
            )
        return views

    async def update(
        self, actor: Actor, changes: Mapping[str, Any], held: frozenset[str] | None = None
    ) -> list[SettingView]:
        """Save (or forget, for None) each change atomically, all or nothing, audited with old and new values.

        held: the permissions of whoever asks (None: the system, i.e. the data dir's owner through the CLI);
        settings that weaken security need the administrator permission (*).
        """
        parsed = validate_changes(changes)
        guarded = sorted(name for name in parsed if name in ADMIN_ONLY)
        if held is not None and guarded and not allows(held, WILDCARD):
            reason = f"changing {', '.join(guarded)} needs the administrator permission ({WILDCARD})"
            await self.audit.record(
                AuditEntry("settings.update", actor, "denied", "settings", {"reason": reason, "settings": guarded})
            )
            raise Forbidden(f"Not allowed: {reason}; nothing was saved.")
        now = datetime.now(UTC)
        async with self.db.write() as session:
            query = select(SavedSetting.key, SavedSetting.value).where(SavedSetting.key.in_(list(parsed)))
            before = {key: _stored_value(stored) for key, stored in (await session.execute(query)).all()}
            changed = {name: [before.get(name), value] for name, value in parsed.items() if before.get(name) != value}
            for name, value in parsed.items():
                if value is None:
                    await session.execute(delete(SavedSetting).where(SavedSetting.key == name))
                else:
                    statement = insert_on_conflict(SavedSetting, self.db.dialect).values(
                        key=name, value=encode_saved(value), updated_at=now
                    )
                    await session.execute(
                        statement.on_conflict_do_update(
                            index_elements=[SavedSetting.key],
                            set_={"value": statement.excluded.value, "updated_at": now},
                        )
                    )
            if changed:
                await self.audit.append(
                    session, AuditEntry("settings.update", actor, target="settings", details=changed)
                )
        return await self.view()
