"""Jobs: the backend's background work, live: progress, cancel, retry, save the file a job made, its error."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHideEvent, QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMessageBox, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import (
    ACTIVE,
    RETRYABLE,
    STATE_COLOURS,
    attempts_text,
    duration_seconds,
    duration_text,
    has_file,
    short_time,
    state_colour,
    state_text,
)
from desktop.models.rows_model import Column, RowsTableModel
from desktop.pages.job_details import JobDetailsDialog
from desktop.pages.list_page import ListPage
from desktop.widgets.confirm import confirm
from desktop.widgets.file_save import FileSaveProgress, ask_where_to_save
from desktop.widgets.progress_cell import ProgressCellDelegate

PAGE_SIZE = 200  # the newest jobs; older ones are found by their state
FAST_POLL_MS = 1_000  # while a job is queued or running: progress one can watch
SLOW_POLL_MS = 10_000  # otherwise: jobs started elsewhere (a script, another console) still turn up

STATES = [("", "All states"), *((state, state.capitalize()) for state in STATE_COLOURS)]
KINDS = [("", "All kinds"), ("export", "Exports"), ("import", "Imports"), ("backup", "Backups"),
         ("cleanup", "Clean-ups")]  # fmt: skip

COLUMNS = [
    # The title names the row: the message and the creator give way first in a narrow window.
    Column("Job", lambda j: str(j.get("title") or j.get("kind") or ""), whole=True),
    Column("State", state_text, state_colour, whole=True),
    # The delegate draws the sort value (0-100) as a bar in the colour of the state.
    Column(
        "Progress", lambda j: f"{j.get('progress', 0)} %", state_colour, sort=lambda j: j.get("progress", 0), whole=True
    ),
    Column("Message", lambda j: str(j.get("message") or "")),
    Column("Tries", attempts_text, sort=lambda j: j.get("attempts", 0), whole=True),  # "1 of 3": a short header
    Column("Created by", lambda j: str(j.get("created_by") or "")),
    Column("Started", lambda j: short_time(j.get("started_at")), sort=lambda j: j.get("started_at") or "", whole=True),
    Column("Duration", lambda j: duration_text(duration_seconds(j)), sort=lambda j: duration_seconds(j) or 0.0),
]
PROGRESS_COLUMN = 2
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

EMPTY = (
    "No jobs yet.\n\nJobs are the work the backend does in the background, so that nothing waits on it: "
    "exports and imports of a collection (Records page, Export… and Import…) and backups (Backups page, Back up "
    "now). Each one shows here with its progress; the file an export or a backup made, or an import's report of "
    "problems, can be saved from here."
)


class JobsPage(ListPage):
    """Every job, newest first, updated live while any is queued or running."""

    title = "Jobs"
    subtitle = "Exports, backups and other work the backend does in the background. Enter shows a job in full."
    nouns = ("job", "jobs")

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.state_filter = QComboBox()
        self.state_filter.setObjectName("jobState")
        for value, text in STATES:
            self.state_filter.addItem(text, value)
        self.state_filter.currentIndexChanged.connect(lambda _index: self._filter_changed())
        state_label = QLabel("State")
        state_label.setBuddy(self.state_filter)
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("jobKind")
        for value, text in KINDS:
            self.kind_filter.addItem(text, value)
        self.kind_filter.currentIndexChanged.connect(lambda _index: self._filter_changed())
        kind_label = QLabel("Kind")
        kind_label.setBuddy(self.kind_filter)
        filters = QHBoxLayout()
        filters.addWidget(state_label)
        filters.addWidget(self.state_filter)
        filters.addSpacing(16)
        filters.addWidget(kind_label)
        filters.addWidget(self.kind_filter)
        filters.addStretch(1)
        self.body.addLayout(filters)
        self.add_table()
        # Newest first, as the API lists them, and no header sorting: a sortable header reserves room for its
        # arrow in every column, room eight columns do not have at 1024 pixels; the state filter slices instead.
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setSortIndicatorShown(False)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressCellDelegate(RowsTableModel.SORT_ROLE, self.table))
        self.details_button = self.header.add_button("Details…")
        self.details_button.setToolTip("The job in full, with its error and traceback (Enter)")
        self.save_button = self.header.add_button("Save file…")
        self.save_button.setToolTip("Save the file a finished export or backup made")
        self.retry_button = self.header.add_button("Retry")
        self.retry_button.setToolTip("Run a failed or cancelled job again, as a new job")
        self.cancel_button = self.header.add_button("Cancel job…")
        self.cancel_button.setToolTip("Stop a queued or running job (Del)")
        self.destructive_button = self.cancel_button  # Del
        self.details_button.clicked.connect(self.show_details)
        self.save_button.clicked.connect(self.save_file)
        self.retry_button.clicked.connect(self.retry_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.doubleClicked.connect(lambda _index: self.show_details())
        self.file_save = FileSaveProgress(api)
        self.file_save.saved.connect(lambda _path: self._selection_changed())
        self.file_save.failed.connect(lambda _why: self._selection_changed())
        self.footer.addWidget(self.file_save, 2)
        self.dialog: QWidget | None = None
        self.more = False  # older jobs than those shown exist
        self.keep_widths = False  # the last load updated the same jobs in place: leave the columns be
        self.wanted: str | None = None  # a job to select once it is listed (the one a retry made)
        self.retrying = False  # a retry is on its way: a second click would make a second job
        self.refused = False  # the last load was refused (no right to read jobs): asking again will not help
        self.action_error: str | None = None  # why the last action failed: shown over each reload until the next
        self.poll = QTimer(self, singleShot=True)
        self.poll.timeout.connect(self.refresh)
        self.loaded.connect(self._schedule_poll)
        self.loaded.connect(self._selection_changed)
        self.loaded.connect(self._update_details)
        self.table.selectionModel().selectionChanged.connect(lambda *_args: self._selection_changed())
        self._selection_changed()

    # -- loading and live updates --------------------------------------------------------------------------

    def load_rows(self) -> None:
        """The newest jobs, of the chosen state."""
        self.api.jobs(
            self.loads.guard(self._loaded),
            self.loads.guard(self._failed),
            limit=PAGE_SIZE,
            state=str(self.state_filter.currentData() or "") or None,
            kind=str(self.kind_filter.currentData() or "") or None,
        )

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """The same jobs are updated in place (selection, scroll and widths stay); new ones reset the table."""
        self.refused = False
        chosen = self.selected()
        self.keep_widths = self.model.update_rows(rows, "id")
        wanted = self.wanted or (None if self.keep_widths or chosen is None else chosen["id"])
        if wanted is not None and self.select_where("id", wanted):
            self.wanted = None

    def after_load(self, data: dict[str, Any]) -> None:
        self.more = bool(data.get("next_cursor"))
        if self.action_error:  # every load clears the banner; this stays until the person does something else
            self.header.show_error(self.action_error)

    def _filter_changed(self) -> None:
        self.action_error = None
        self.refresh()

    def show_count(self) -> None:
        """The count (or that only the newest are shown), and an empty state that says what jobs are."""
        super().show_count()
        if self.more:
            self.count_label.setText(f"The newest {PAGE_SIZE} jobs: choose a state or a kind to find older ones")
        if self.model.rowCount() == 0:
            state = str(self.state_filter.currentData() or "")
            kind = str(self.kind_filter.currentText() if self.kind_filter.currentData() else "jobs").lower()
            self.empty_label.setText(f"No {state} {kind}." if state else f"No {kind}." if kind != "jobs" else EMPTY)

    def fit_columns(self) -> None:
        """Fit the columns, but not after an update in place: columns that shift every second are hard to read."""
        if self.keep_widths:
            self.keep_widths = False
            return
        super().fit_columns()

    def _failed(self, error: ApiError) -> None:
        self.refused = error.status in (401, 403)
        super()._failed(error)

    def _schedule_poll(self) -> None:
        """Ask again soon while a job moves, now and then otherwise; never while out of sight or refused."""
        if self.api.session is None or not self.isVisible() or self.refused:
            return
        moving = any(job.get("state") in ACTIVE for job in self.model.rows)
        self.poll.start(FAST_POLL_MS if moving else SLOW_POLL_MS)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        """Out of sight: stop asking (showing the page loads it again, which starts asking again)."""
        super().hideEvent(event)
        self.poll.stop()

    def stop(self) -> None:
        """Signed out: stop asking."""
        self.poll.stop()
        super().stop()

    # -- actions ---------------------------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        job = self.selected()
        state = job.get("state") if job else None
        self.details_button.setEnabled(job is not None)
        self.save_button.setEnabled(job is not None and has_file(job) and not self.file_save.busy())
        self.retry_button.setEnabled(state in RETRYABLE and not self.retrying)
        self.cancel_button.setEnabled(state in ACTIVE and not (job or {}).get("cancel_requested"))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Enter (or Return) on the table shows the selected job in full."""
        key_press = watched is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
        if key_press and event.key() in ENTER_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.show_details()
            return True
        return super().eventFilter(watched, event)

    def show_details(self) -> JobDetailsDialog | None:
        """The selected job in full: its error and traceback too, to copy."""
        job = self.selected()
        if job is None:
            return None
        dialog = JobDetailsDialog(job, self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _update_details(self) -> None:
        """An open details dialog follows its job as the page hears more of it."""
        if isinstance(self.dialog, JobDetailsDialog) and self.dialog.isVisible():
            job = next((row for row in self.model.rows if row.get("id") == self.dialog.job_id()), None)
            if job is not None:
                self.dialog.show_job(job)

    def cancel_selected(self) -> QMessageBox | None:
        """Cancel the selected job, after a confirmation (keeping it is the default)."""
        self._forget_action_error()
        job = self.selected()
        if job is None or job.get("state") not in ACTIVE:
            return None
        running = job.get("state") == "running"
        how = "It stops after the chunk of work it is on." if running else "It will not start."
        box = confirm(
            self,
            "Cancel job",
            f"Cancel “{job.get('title')}”? {how} A cancelled job can be retried later.",
            "Cancel job",
            lambda: self.api.cancel_job(str(job["id"]), lambda _job: self.refresh(), self._action_failed),
        )
        box.button(QMessageBox.StandardButton.Cancel).setText("Keep running" if running else "Keep it")
        self.dialog = box
        return box

    def retry_selected(self) -> None:
        """Run the selected failed or cancelled job again; the new job is selected once listed."""
        self._forget_action_error()
        job = self.selected()
        if job is None or job.get("state") not in RETRYABLE:
            return
        self.retrying = True
        self._selection_changed()

        def retried(new_job: Any) -> None:
            self.retrying = False
            if isinstance(new_job, dict):
                self.wanted = str(new_job.get("id"))
            self.refresh()

        def refused(error: ApiError) -> None:
            self.retrying = False
            self._action_failed(error)

        self.api.retry_job(str(job["id"]), retried, refused)

    def _forget_action_error(self) -> None:
        if self.action_error:
            self.action_error = None
            self.header.clear_error()

    def _action_failed(self, error: ApiError) -> None:
        """Say why, over the list loaded again: it shows where the job stands now."""
        self.action_error = error.detail if error.status == 409 else self.explain(error)
        self.header.show_error(self.action_error)
        self.refresh()

    def save_file(self) -> None:
        """Ask where, then download the selected job's file there, its progress under the table."""
        self._forget_action_error()
        job = self.selected()
        if job is None or not has_file(job) or self.file_save.busy():
            return
        destination = ask_where_to_save(self, job, f"Save the file of “{job.get('title')}”")
        if destination is None:
            return
        self.file_save.save(job, destination)
        self._selection_changed()
