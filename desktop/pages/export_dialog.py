"""Export a collection: choose the format and filter, watch the job to 100 %, then save the file where one likes."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import has_file, result_text
from desktop.widgets.file_save import FileSaveProgress, ask_where_to_save
from desktop.widgets.filter_bar import marked_excerpt
from desktop.widgets.job_progress import JobProgress

MIN_WIDTH = 500


def restyle(button: QPushButton, object_name: str) -> None:
    """Give button another look from the stylesheet (primary, or plain with ""), at once."""
    button.setObjectName(object_name)
    button.style().unpolish(button)
    button.style().polish(button)


class ExportDialog(QDialog):
    """The export of one collection, from asking for it to the file saved; the job goes on if this closes."""

    def __init__(
        self, api: ApiClient, collection: str, current_filter: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.collection = collection
        self.job: dict[str, Any] | None = None
        self.setWindowTitle(f"Export {collection}")
        self.setMinimumWidth(MIN_WIDTH)
        heading = QLabel(f"Export {collection}")
        heading.setObjectName("dialogTitle")
        intro = QLabel(
            "The backend writes the records to a file in the background. You can close this window meanwhile: "
            "the export goes on, and its file can be saved later from the Jobs page."
        )
        intro.setObjectName("dialogIntro")
        intro.setWordWrap(True)
        format_label = QLabel("Format")
        format_label.setObjectName("fieldLabel")
        self.csv = QRadioButton("CSV: a row per record, for spreadsheets")
        self.jsonl = QRadioButton("JSON Lines: a JSON object per record, nested values kept whole")
        self.csv.setChecked(True)
        self.use_filter = QCheckBox("Use the current filter: only the records it matches")
        self.filter = QLineEdit(current_filter)
        self.filter.setObjectName("exportFilter")
        self.filter.setPlaceholderText('e.g. status = "open" && score > 50')
        self.filter.setClearButtonEnabled(True)
        self.use_filter.toggled.connect(self.filter.setEnabled)
        self.use_filter.setChecked(bool(current_filter.strip()))
        self.filter.setEnabled(self.use_filter.isChecked())
        self.filter_error = QLabel()
        self.filter_error.setObjectName("fieldError")
        self.filter_error.setWordWrap(True)
        self.filter_error.hide()
        self.progress = JobProgress(api)
        self.progress.hide()
        self.progress.ended.connect(self._ended)
        self.progress.lost.connect(self._lost)
        self.file_save = FileSaveProgress(api)
        self.file_save.hide()
        self.file_save.saved.connect(lambda _path: self._saving(False))
        self.file_save.failed.connect(lambda _why: self._saving(False))
        self.general_error = QLabel()
        self.general_error.setObjectName("formError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        self.buttons = QDialogButtonBox()
        self.cancel_job_button = self.buttons.addButton("Cancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_job_button.hide()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("primary")
        self.save_button = self.buttons.addButton("Save as…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setObjectName("primary")
        self.save_button.hide()
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.export)
        self.save_button.clicked.connect(self.save_as)
        self.cancel_job_button.clicked.connect(self.cancel_export)
        self.buttons.rejected.connect(self.reject)
        self.export_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(6)
        for widget in (heading, intro, format_label, self.csv, self.jsonl, self.use_filter, self.filter):
            layout.addWidget(widget)
        layout.addWidget(self.filter_error)
        layout.addSpacing(6)
        layout.addWidget(self.progress)
        layout.addWidget(self.file_save)
        layout.addWidget(self.general_error)
        layout.addSpacing(8)
        layout.addWidget(self.buttons)

    def file_format(self) -> str:
        """The format chosen, as the API names it."""
        return "jsonl" if self.jsonl.isChecked() else "csv"

    def filter_text(self) -> str | None:
        """The filter to export with, if one is to be used."""
        text = self.filter.text().strip()
        return text if self.use_filter.isChecked() and text else None

    def export(self) -> None:
        """Ask the backend for the export; its job is followed here until it ends."""
        self._clear_errors()
        self._editing(False)
        self.save_button.hide()
        self.file_save.hide()
        chosen = (self.file_format(), self.filter_text())
        self.api.export_collection(self.collection, *chosen, self._started, self._refused)

    def _started(self, job: Any) -> None:
        if not isinstance(job, dict):
            self._refused(ApiError(0, "The backend sent an empty reply; try again."))
            return
        self.job = job
        self.cancel_job_button.show()
        self.cancel_job_button.setEnabled(True)
        self.progress.show()
        self.progress.follow(job)
        self._fit()

    def _refused(self, error: ApiError) -> None:
        self._editing(True)
        problem = error.field_errors().get("filter")
        if error.status == 400 and problem is not None:
            text = self.filter_text() or ""
            position = error.problem.get("position")
            where = f"<br>{marked_excerpt(text, position)}" if isinstance(position, int) else ""
            self.filter_error.setText(f"{html.escape(problem)}{where}")
            self.filter_error.show()
            self.filter.setFocus()
            self._fit()
            return
        if error.status == 403:
            self._show_error(f"Your account may not export {self.collection}: {error.detail}")
        else:
            self._show_error(error.detail)

    def cancel_export(self) -> None:
        """Cancel the running export (it stops after its current chunk; the bar shows when)."""
        if self.job is None:
            return
        self.cancel_job_button.setEnabled(False)
        self.api.cancel_job(str(self.job["id"]), lambda _job: None, lambda error: self._show_error(error.detail))

    def _ended(self, job: dict[str, Any]) -> None:
        self.job = job
        self.cancel_job_button.hide()
        self._editing(True)
        if has_file(job):
            made = result_text(job) or "done"
            self.progress.message.setText(f"{self.progress.bar.value()} % · {made}: ready to save")
            self.export_button.setText("Export again")
            restyle(self.export_button, "")  # one primary button: Save as… is what comes next
            self.save_button.show()
            self.export_button.setDefault(False)
            self.save_button.setDefault(True)
            self.save_button.setFocus()
            self._fit()
        elif job.get("state") == "failed":
            self._show_error(f"The export failed: {job.get('error') or job.get('message')}")
        else:
            self.progress.message.setText(f"{self.progress.job_text()}: nothing to save")

    def _lost(self, error: ApiError) -> None:
        self.cancel_job_button.hide()
        self._editing(True)
        self._show_error(f"The export's progress cannot be read ({error.detail}); the Jobs page shows how it went.")

    def save_as(self) -> None:
        """Ask where (Qt's save dialog), then download the file there."""
        if self.job is None or not has_file(self.job) or self.file_save.busy():
            return
        destination = ask_where_to_save(self, self.job, f"Save the export of {self.collection}")
        if destination is None:
            return
        self.file_save.show()
        self._saving(True)
        self._fit()
        self.file_save.save(self.job, destination)

    def _saving(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy)

    def _editing(self, editable: bool) -> None:
        for widget in (self.csv, self.jsonl, self.use_filter, self.export_button):
            widget.setEnabled(editable)
        self.filter.setEnabled(editable and self.use_filter.isChecked())

    def _show_error(self, message: str) -> None:
        self.general_error.setText(message)
        self.general_error.show()
        self._fit()

    def _fit(self) -> None:
        """As tall as what is shown now needs at this width, once the layout has taken in the change.

        A window's layout does not grow it for wrapped text (a label's height depends on its width), so
        the intro and the messages would be squeezed as lines appear under the inputs.
        """
        QTimer.singleShot(0, self, self._fit_now)

    def _fit_now(self) -> None:
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            self.resize(self.width(), max(layout.totalHeightForWidth(self.width()), layout.minimumSize().height()))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Fit the height to the wrapped text at the width the dialog opens with."""
        super().showEvent(event)
        self._fit()

    def _clear_errors(self) -> None:
        for label in (self.filter_error, self.general_error):
            label.clear()
            label.hide()

    def done(self, result: int) -> None:
        """Closing stops the watching, not the export."""
        self.progress.stop()
        super().done(result)
