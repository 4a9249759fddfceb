"""Backups: the database's backups, newest first; "Back up now", followed until the copy is made; "Restore…"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import human_size
from desktop.models.rows_model import Column, local_time
from desktop.pages.backup_schedule import BackupSchedule
from desktop.pages.list_page import ListPage
from desktop.widgets.confirm import confirm
from desktop.widgets.job_progress import JobProgress

RESTORE_TIP = "Replace the database with the selected backup (the current one is kept as a backup first)"
RESTORE_POLL_MS = 500
RESTORE_PATIENCE_MS = 15 * 60 * 1000  # a copy of a large database, checked twice, then the swap
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
        self.restore_button.setToolTip(RESTORE_TIP)
        self.restore_button.clicked.connect(self.restore_selected)
        self.backup_button = self.header.add_button("Back up now", "primary")
        self.backup_button.setToolTip("Take a backup of the database now; the backend keeps working meanwhile")
        self.backup_button.clicked.connect(self.back_up_now)
        self.progress = JobProgress(api)
        self.progress.hide()
        self.progress.ended.connect(self._backup_ended)
        self.progress.lost.connect(self._backup_lost)
        self.body.addWidget(self.progress)
        self.schedule = BackupSchedule(api)
        self.body.addWidget(self.schedule)
        self.restore_status = QLabel()
        self.restore_status.setObjectName("jobMessage")
        self.restore_status.setWordWrap(True)
        self.restore_status.hide()
        self.body.addWidget(self.restore_status)
        self.add_table()
        self.table.selectionModel().selectionChanged.connect(lambda *_args: self._selection_changed())
        self.wanted: str | None = None  # the backup to select once it is listed (the one just taken)
        self.dialog: QMessageBox | None = None
        self.restoring: dict[str, Any] | None = None  # {name, serving_since, known}: a restore under way
        self.restore_poll = QTimer(self, singleShot=True, interval=RESTORE_POLL_MS)
        self.restore_poll.timeout.connect(self._poll_restore)
        self.restore_deadline = QTimer(self, singleShot=True, interval=RESTORE_PATIENCE_MS)
        self.restore_deadline.timeout.connect(self._restore_overdue)

    def load_rows(self) -> None:
        """Every backup (the API lists them all at once, not in pages), and the schedule."""
        self.schedule.load()
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

    def _selection_changed(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None and self.restoring is None)

    def restore_selected(self) -> QMessageBox | None:
        """Replace the database with the selected backup, after a confirmation that says what it sets aside."""
        backup = self.selected()
        if backup is None or self.restoring is not None:
            return None
        name = str(backup.get("name"))
        question = (
            f"Replace the database with the backup “{name}”, taken {local_time(backup.get('created_at'))}?\n\n"
            "Everything written since then (records, collections, users, keys, settings) is set aside: the "
            "current database is first kept as a backup of the kind “Before a restore”, so nothing is lost. "
            "Access taken away since then stays away (keys revoked, users disabled, sessions ended). "
            "Jobs the backup caught unfinished are cancelled. The backend stops serving for as long as the "
            "copy takes; clients wait, then carry on with the restored data."
        )
        self.dialog = confirm(self, "Restore backup", question, "Restore", lambda: self._restore(backup))
        return self.dialog

    def _restore(self, backup: dict[str, Any]) -> None:
        self.header.clear_error()
        known = {str(row.get("name")) for row in self.model.rows}
        self.restoring = {"name": str(backup.get("name")), "known": known, "serving_since": None}
        self._selection_changed()
        self.restore_status.setText(f"Restoring “{self.restoring['name']}”: the backend serves again once it is done…")
        self.restore_status.show()
        self.api.restore_backup(self.restoring["name"], self._restore_accepted, self._restore_refused)

    def _restore_accepted(self, reply: Any) -> None:
        if self.restoring is None:
            return
        self.restoring["serving_since"] = (reply or {}).get("serving_since") if isinstance(reply, dict) else None
        self.restore_deadline.start()
        self.restore_poll.start()

    def _restore_refused(self, error: ApiError) -> None:
        self._restore_done()
        self.header.show_error(f"Not restored: {self.explain(error)}")

    def _poll_restore(self) -> None:
        """Ask the backend when its current run started: a later start than the replaced run's is the restore done."""
        if self.restoring is not None:
            self.api.system(self._restore_checked, lambda _error: self.restore_poll.start())  # stopped: ask again

    def _restore_checked(self, info: Any) -> None:
        if self.restoring is None:
            return
        started = info.get("started_at") if isinstance(info, dict) else None
        if not started or started == self.restoring["serving_since"]:
            self.restore_poll.start()  # the replaced run still answers while it drains
            return
        self.api.backups(self._restored, lambda _error: self.restore_poll.start())

    def _restored(self, backups: Any) -> None:
        if self.restoring is None:
            return
        name, known = self.restoring["name"], self.restoring["known"]
        kept = [
            str(b.get("name")) for b in backups or [] if b.get("label") == "pre-restore" and b.get("name") not in known
        ]
        self._restore_done()
        if kept:
            self.restore_status.setText(
                f"Restored “{name}”. The database as it was is kept as “{kept[0]}”. Other pages show the restored "
                "data once they load again."
            )
            self.restore_status.show()
        else:
            self.header.show_error(f"“{name}” was not restored (the database is unchanged); the audit log says why.")
        self.refresh()

    def _restore_overdue(self) -> None:
        self._restore_done()
        self.header.show_error("The restore has not ended after 15 minutes; see the backend's log.")

    def _restore_done(self) -> None:
        self.restore_poll.stop()
        self.restore_deadline.stop()
        self.restore_status.hide()
        self.restoring = None
        self._selection_changed()

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
        """Signed out: stop following a backup or a restore (they go on in the backend)."""
        self.progress.stop()
        self.progress.hide()
        self._backup_done()
        self._restore_done()
        super().stop()
