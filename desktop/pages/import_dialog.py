"""Import a file into a collection: pick it, check its first rows and where each column goes, choose what a bad
row does, send it (streamed from disk), then follow the job to its counts, its first problems and the report."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from PySide6.QtCore import Signal
from PySide6.QtNetwork import QNetworkReply
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import human_size
from desktop.pages.export_dialog import restyle
from desktop.pages.import_outcome import ImportOutcome
from desktop.pages.import_setup import ImportSetup
from desktop.widgets.file_save import ask_where_to_save

SIZE = (780, 640)  # at most; a smaller screen gets a smaller dialog (the lists in it scroll)


class ImportDialog(QDialog):
    """The import of one file into one collection; the import goes on if this closes."""

    ended = Signal(dict)  # the job, once it has ended: the pages show what it wrote

    def __init__(self, api: ApiClient, collection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.collection = collection
        self.job: dict[str, Any] | None = None
        self.reply: QNetworkReply | None = None  # the file on its way
        self._stopping_send = False
        self._what = ""  # the file sent and how it is imported, in a few words
        self.setWindowTitle(f"Import into {collection}")
        heading = QLabel(f"Import into {collection}")
        heading.setObjectName("dialogTitle")
        intro = QLabel(
            "Rows of a CSV or JSON Lines file become records; a row with the id of a record updates it. The backend "
            "imports in the background: closing this window (Esc) does not stop an import; the Jobs page follows it."
        )
        intro.setObjectName("dialogIntro")
        intro.setWordWrap(True)
        self.setup = ImportSetup()
        self.setup.changed.connect(self._update_buttons)
        self.outcome = ImportOutcome(api)
        self.outcome.hide()
        self.outcome.progress.ended.connect(self._ended)
        self.outcome.progress.lost.connect(self._lost)
        self.outcome.file_save.saved.connect(lambda _path: self.save_button.setEnabled(True))
        self.outcome.file_save.failed.connect(lambda _why: self.save_button.setEnabled(True))
        self.general_error = QLabel()
        self.general_error.setObjectName("formError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self._build_buttons()
        self.setup.last_in_tab_order = self.import_button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(6)
        for widget in (heading, intro, self.setup, self.outcome, self.general_error):
            layout.addWidget(widget, 1 if widget in (self.setup, self.outcome) else 0)
        layout.addSpacing(6)
        layout.addWidget(self.buttons)
        self._fit_screen()
        self._load_fields()
        self._update_buttons()

    def _build_buttons(self) -> None:
        self.buttons = QDialogButtonBox()
        action = QDialogButtonBox.ButtonRole.ActionRole
        self.cancel_button = self.buttons.addButton("Cancel import", action)
        self.cancel_button.setToolTip("Stops after the chunk of rows being written: rows already written stay")
        self.again_button = self.buttons.addButton("Import another file…", action)
        self.import_button = self.buttons.addButton("Import", action)
        self.import_button.setObjectName("primary")
        self.save_button = self.buttons.addButton("Save report…", action)
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Every problem found, as a CSV file: row, field, message")
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_button.clicked.connect(self.cancel_import)
        self.again_button.clicked.connect(self.start_again)
        self.import_button.clicked.connect(self.start_import)
        self.save_button.clicked.connect(self.save_report)
        self.buttons.rejected.connect(self.reject)
        for button in (self.cancel_button, self.again_button, self.save_button):
            button.hide()

    def _fit_screen(self) -> None:
        width, height = SIZE
        screen = self.screen()
        if screen is not None:
            available = screen.availableGeometry()
            width, height = min(width, available.width() - 40), min(height, available.height() - 60)
        self.resize(width, height)

    def _load_fields(self) -> None:
        def loaded(collection: Any) -> None:
            self.setup.set_fields(list((collection or {}).get("fields") or []))
            if self.setup.path is None:
                self.setup.choose_button.setFocus()

        self.api.get(f"/api/v1/collections/{quote(self.collection, safe='')}", loaded, self._show_error)

    def _update_buttons(self) -> None:
        ready = self.setup.ready() and self.reply is None and not self.outcome.progress.following
        self.import_button.setEnabled(ready)
        self.import_button.setDefault(ready)
        self.setup.choose_button.setDefault(not ready and self.setup.isVisibleTo(self))
        self.setup.choose_button.setAutoDefault(not ready)

    # -- the import -------------------------------------------------------------------------------------

    def start_import(self) -> None:
        """Send the file (streamed from disk) with the mapping and mode; the job is followed once it is in."""
        path = self.setup.path
        if path is None or not self.import_button.isEnabled():
            return
        self._clear_error()
        self.setup.hide()
        self.outcome.show()
        self.import_button.hide()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setFocus()
        self._stopping_send = False
        size = path.stat().st_size if path.exists() else 0
        written_as = "JSON Lines" if self.setup.file_format() == "jsonl" else "CSV"
        how = "all or nothing" if self.setup.mode() == "all_or_nothing" else "skipping invalid rows"
        self._what = f"{path.name} ({human_size(size)}) · {written_as} · {how}"
        csv = self.setup.file_format() == "csv"
        self.outcome.rows_counted = "counting the header as row 1" if csv else "by line of the file"
        self.outcome.sending(path.name, size)
        self.reply = self.api.import_collection(
            self.collection,
            path,
            self.setup.file_format(),
            self.setup.mode(),
            self.setup.mapping_to_send(),
            self._started,
            self._refused,
            lambda sent, total: self.outcome.sent_so_far(path.name, sent, total),
        )

    def _started(self, job: Any) -> None:
        self.reply = None
        if not isinstance(job, dict):
            self._refused(ApiError(0, "The backend sent an empty reply; try again."))
            return
        self.job = job
        self.outcome.follow(job, self._what)

    def _refused(self, error: ApiError) -> None:
        self.reply = None
        mapping_problems = [e.get("message", "") for e in error.errors if e.get("field") == "mapping"]
        if error.status == 422 and mapping_problems:
            self.start_again()
            self.setup.show_refusal("The backend refused the columns' fields: " + "; ".join(mapping_problems))
            self._load_fields()  # the collection's fields may have changed since the dialog opened
            return
        if self._stopping_send:
            message = "Sending was stopped: nothing was imported."
        elif error.status == 413:
            message = f"The file is larger than the backend accepts: {error.detail}"
        elif error.status == 0:
            message = f"The file could not be sent: {error.detail}"
        else:
            message = self._explain(error)
        self.outcome.clear()
        self.outcome.show_error(message)
        self._finished_buttons(has_report=False)

    def cancel_import(self) -> None:
        """Stop sending the file, or cancel the job (it stops after the chunk it is writing)."""
        self.cancel_button.setEnabled(False)
        if self.reply is not None:
            self._stopping_send = True
            self.reply.abort()
        elif self.job is not None:
            self.api.cancel_job(str(self.job["id"]), lambda _job: None, self._show_error)

    def _ended(self, job: dict[str, Any]) -> None:
        self.job = job
        self.outcome.show_result(job)
        self._finished_buttons(has_report=isinstance((job.get("result") or {}).get("file"), str))
        self.ended.emit(job)

    def _lost(self, error: ApiError) -> None:
        self.outcome.show_error(f"The import's progress cannot be read ({error.detail}); the Jobs page shows it.")
        self._finished_buttons(has_report=False)

    def _finished_buttons(self, *, has_report: bool) -> None:
        self.cancel_button.hide()
        self.again_button.show()
        self.save_button.setVisible(has_report)
        self.save_button.setEnabled(True)
        restyle(self.again_button, "" if has_report else "primary")  # one primary button: what comes next
        following = self.save_button if has_report else self.again_button
        following.setDefault(True)
        following.setFocus()

    def start_again(self) -> None:
        """Back to choosing: the same file read afresh (it may have been put right meanwhile), or another."""
        self.job = None
        self.outcome.clear()
        self.outcome.hide()
        self.setup.show()
        for button in (self.again_button, self.save_button, self.cancel_button):
            button.hide()
            button.setDefault(False)
        self.import_button.show()
        self._clear_error()
        self.setup.read()
        self._update_buttons()
        (self.import_button if self.import_button.isEnabled() else self.setup.choose_button).setFocus()

    def save_report(self) -> None:
        """Ask where (Qt's save dialog), then download the report of problems there."""
        if self.job is None or self.outcome.file_save.busy():
            return
        stem = self.setup.path.stem if self.setup.path else self.collection
        result = {**(self.job.get("result") or {}), "download_name": f"{stem}-import-problems.csv"}
        offered = {**self.job, "result": result}
        destination = ask_where_to_save(self, offered, "Save the import's report")
        if destination is None:
            return
        self.save_button.setEnabled(False)
        self.outcome.file_save.show()
        self.outcome.file_save.save(offered, destination)

    def _explain(self, error: ApiError) -> str:
        if error.status == 403:
            return f"Your account may not import into {self.collection}: {error.detail}"
        if error.status == 404:
            return f"There is no collection {self.collection} any more: {error.detail}"
        return error.detail

    def _show_error(self, error: ApiError) -> None:
        self.general_error.setText(self._explain(error))
        self.general_error.show()

    def _clear_error(self) -> None:
        self.general_error.clear()
        self.general_error.hide()

    def done(self, result: int) -> None:
        """Closing stops the watching, not the import (nor the sending of its file)."""
        self.outcome.progress.stop()
        super().done(result)
