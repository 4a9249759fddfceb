"""Backups: the database's backups, newest first, and "Back up now", followed until the copy is made."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import human_size
from desktop.models.rows_model import Column, local_time
from desktop.pages.list_page import ListPage
from desktop.widgets.job_progress import JobProgress

RESTORE_LATER = (
    "Restoring a backup comes in the next version of the console. "
    "Until then a backup is an SQLite file: keep it somewhere safe."
)
EMPTY = (
    "No backups yet.\n\nA backup is a checked copy of the whole database, taken while the backend keeps working. "
    "Outpost also takes one by itself before every migration. Press Back up now to take the first."
)


def kind_text(label: str) -> str:
    """The label a backup's name carries, as words: "backup" was asked for; the others Outpost took itself."""
    if label == "backup":
        return "Backup"
    if label == "pre-restore":
        return "Before a restore"
    if label.startswith("pre-migrate"):
        revision = label.removeprefix("pre-migrate").strip("-")
        return f"Before migration {revision}" if revision else "Before a migration"
    return label


COLUMNS = [
    Column("Name", lambda b: str(b.get("name") or "")),
    Column("Kind", lambda b: kind_text(str(b.get("label") or "")), whole=True),
    Column("Size", lambda b: human_size(b.get("size_bytes")), sort=lambda b: b.get("size_bytes") or 0, whole=True),
    Column("Taken", lambda b: local_time(b.get("created_at")), whole=True),
]


class BackupsPage(ListPage):
    """The backups in the data directory's backups/ folder."""

    title = "Backups"
    subtitle = "Checked copies of the whole database, kept in the data folder. Save one elsewhere from the Jobs page."
    nouns = ("backup", "backups")

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.restore_button = self.header.add_button("Restore…")
        self.restore_button.setEnabled(False)
        self.restore_button.setToolTip(RESTORE_LATER)
        self.backup_button = self.header.add_button("Back up now", "primary")
        self.backup_button.setToolTip("Take a backup of the database now; the backend keeps working meanwhile")
        self.backup_button.clicked.connect(self.back_up_now)
        self.progress = JobProgress(api)
        self.progress.hide()
        self.progress.ended.connect(self._backup_ended)
        self.progress.lost.connect(self._backup_lost)
        self.body.addWidget(self.progress)
        self.add_table()
        self.wanted: str | None = None  # the backup to select once it is listed (the one just taken)

    def load_rows(self) -> None:
        """Every backup (the API lists them all at once, not in pages)."""
        self.api.backups(self.loads.guard(self._listed), self.loads.guard(self._failed))

    def _listed(self, backups: Any) -> None:
        self._loaded({"items": backups} if isinstance(backups, list) else backups)

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """The rows, and the backup just taken selected."""
        super().show_rows(rows)
        if self.wanted is not None and self.select_where("name", self.wanted):
            self.wanted = None

    def show_count(self) -> None:
        """The count, and an empty state that says what a backup is."""
        super().show_count()
        if self.model.rowCount() == 0:
            self.empty_label.setText(EMPTY)

    def back_up_now(self) -> None:
        """Ask for a backup; its progress shows under the header until it ends, then the list loads again."""
        self.backup_button.setEnabled(False)
        self.header.clear_error()
        self.api.create_backup(self._backup_started, self._backup_refused)

    def _backup_started(self, job: Any) -> None:
        if not isinstance(job, dict):
            self._backup_refused(ApiError(0, "The backend sent an empty reply; try again."))
            return
        self.backup_button.setText("Backing up…")
        self.progress.show()
        self.progress.follow(job)

    def _backup_refused(self, error: ApiError) -> None:
        self._backup_done()
        self.header.show_error(self.explain(error))

    def _backup_ended(self, job: dict[str, Any]) -> None:
        self._backup_done()
        if job.get("state") == "failed":  # the bar stays, at the point it failed, with the reason above it
            self.header.show_error(f"The backup failed: {job.get('error') or job.get('message')}")
            return
        self.progress.hide()
        if job.get("state") == "succeeded":
            self.wanted = str((job.get("result") or {}).get("file") or "") or None
            self.refresh()

    def _backup_lost(self, error: ApiError) -> None:
        self._backup_done()
        self.progress.hide()
        self.header.show_error(f"The backup's progress cannot be read ({error.detail}); see the Jobs page.")

    def _backup_done(self) -> None:
        self.backup_button.setEnabled(True)
        self.backup_button.setText("Back up now")

    def stop(self) -> None:
        """Signed out: stop following a backup (it goes on in the backend)."""
        self.progress.stop()
        self.progress.hide()
        self._backup_done()
        super().stop()
