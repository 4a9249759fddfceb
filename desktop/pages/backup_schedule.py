"""The backup schedule on the Backups page: how often the backend backs up by itself and how many it keeps."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.api import ApiClient, ApiError
from desktop.widgets.form_dialog import FormDialog, FormField

INTERVALS = [(0, "Never (only by hand)"), (6, "Every 6 hours"), (12, "Every 12 hours"), (24, "Every day"),
             (48, "Every 2 days"), (168, "Every week")]  # fmt: skip
KEEPS = [3, 5, 10, 20, 30, 60]


def interval_text(hours: int) -> str:
    """How often, in words."""
    named = dict(INTERVALS)
    return named.get(hours, f"Every {hours} hours").lower() if hours else "never"


def whole(value: Any, fallback: int = 0) -> int:
    """A setting's value as a whole number (saved values may be kept as text)."""
    try:
        return int(float(str(value)))
    except ValueError:
        return fallback


def planned(setting: dict[str, Any]) -> int:
    """The value from the backend's next start: the saved one when it differs from the running one."""
    running = whole(setting.get("value"))
    return whole(setting.get("saved"), running) if setting.get("restart_required") else running


def schedule_text(settings: dict[str, dict[str, Any]]) -> str:
    """The schedule the backend runs, and the one saved for its next start when they differ."""
    interval, keep = settings["backup_interval_hours"], settings["backup_keep"]
    hours, kept = whole(interval.get("value")), whole(keep.get("value"))
    if hours:
        text = f"Scheduled backups: {interval_text(hours)} (counted from 00:00 UTC); the newest {kept} are kept."
    else:
        text = f"No scheduled backups: only those taken by hand (the newest {kept} are kept)."
    if planned(interval) != hours or planned(keep) != kept:
        text += f" From the backend's next start: {interval_text(planned(interval))}, the newest {planned(keep)} kept."
    if "env" in (interval.get("source"), keep.get("source")) or "flag" in (interval.get("source"), keep.get("source")):
        text += " The backend's environment or command line sets this, over any saved schedule."
    return text


class BackupSchedule(QWidget):
    """One line saying the schedule, and Schedule… to change it (saved, applied from the backend's next start)."""

    changed = Signal()  # saved
    shown = Signal()  # the settings were read and the line shows them

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.settings: dict[str, dict[str, Any]] = {}
        self.dialog: FormDialog | None = None
        self.text = QLabel()
        self.text.setObjectName("pageSubtitle")
        self.text.setWordWrap(True)
        self.button = QPushButton("Schedule…")
        self.button.setToolTip("How often the backend backs up by itself, and how many backups it keeps")
        self.button.clicked.connect(self.edit)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        self.hide()  # until the settings are read: a user who may not read them sees nothing here

    def load(self) -> None:
        """Read the two settings; the line shows once they are known."""
        self.api.get("/api/v1/settings", self._read, lambda _error: self.hide())

    def _read(self, data: Any) -> None:
        items = data.get("items", []) if isinstance(data, dict) else []
        found = {item.get("name"): item for item in items if isinstance(item, dict)}
        if "backup_interval_hours" not in found or "backup_keep" not in found:
            self.hide()
            return
        self.settings = found
        self.text.setText(schedule_text(found))
        self.button.setEnabled(bool(found["backup_interval_hours"].get("savable")))
        self.show()
        self.shown.emit()

    def edit(self) -> FormDialog | None:
        """The two settings in a form; saved through the API for the backend's next start."""
        if not self.settings:
            return None
        hours = planned(self.settings["backup_interval_hours"])
        keep = planned(self.settings["backup_keep"])
        intervals = [(str(value), text) for value, text in INTERVALS]
        if hours not in dict(INTERVALS):
            intervals.append((str(hours), f"Every {hours} hours"))
        keeps = [(str(value), f"The newest {value}") for value in sorted({*KEEPS, keep})]
        dialog = FormDialog(
            "Backup schedule",
            "The backend backs up by itself on this schedule, and removes the oldest backups past the number "
            "kept (copies taken before a migration or a restore are never removed). Changes apply from the "
            "backend's next start.",
            [
                FormField("backup_interval_hours", "How often", "choice", value=str(hours), options=intervals),
                FormField("backup_keep", "Backups kept", "choice", value=str(keep), options=keeps),
            ],
            "Save schedule",
            lambda values: self._save(dialog, values),
            self,
        )
        self.dialog = dialog
        dialog.open()
        return dialog

    def _save(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        body = {name: int(value) for name, value in values.items()}

        def saved(data: Any) -> None:
            dialog.succeed()
            self._read(data)
            self.changed.emit()

        def refused(error: ApiError) -> None:
            dialog.show_error(error)

        self.api.request("PATCH", "/api/v1/settings", saved, refused, body=body)
