"""One job in full: what it is, how it went, its error and the traceback behind it, all of it copyable."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.models.job_format import attempts_text, duration_seconds, duration_text, result_text, state_text
from desktop.models.rows_model import local_time

MIN_SIZE = (620, 420)


def job_report(job: dict[str, Any]) -> str:
    """The job as plain text, to read and to paste into a message to whoever looks after the backend."""
    lines = [
        str(job.get("title") or job.get("kind") or "Job"),
        "",
        f"State:      {state_text(job)} ({job.get('progress', 0)} %)",
        f"Message:    {job.get('message') or '—'}",
        f"Attempts:   {attempts_text(job) or 'none yet'}",
        f"Created:    {local_time(job.get('created_at'))} by {job.get('created_by') or '?'}",
        f"Started:    {local_time(job.get('started_at')) or 'not yet'}",
        f"Finished:   {local_time(job.get('finished_at')) or 'not yet'}",
        f"Duration:   {duration_text(duration_seconds(job)) or '—'}",
    ]
    if job.get("run_after") and job.get("state") == "queued":
        lines.append(f"Next try:   {local_time(job.get('run_after'))}")
    if job.get("result"):
        lines.append(f"Result:     {result_text(job) or 'done'} {json.dumps(job['result'], ensure_ascii=False)}")
    lines.append(f"Parameters: {json.dumps(job.get('params') or {}, ensure_ascii=False)}")
    if job.get("retry_of"):
        lines.append(f"Retry of:   {job['retry_of']}")
    lines.append(f"Job id:     {job.get('id')}")
    if job.get("error"):
        lines += ["", "Error", str(job["error"])]
    if job.get("error_detail"):
        lines += ["", "Traceback (for whoever looks after the backend)", str(job["error_detail"]).rstrip()]
    return "\n".join(lines)


class JobDetailsDialog(QDialog):
    """The job in full, in a read-only text one can select and copy; Copy puts all of it on the clipboard."""

    def __init__(self, job: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Job details")
        self.setMinimumSize(*MIN_SIZE)
        self.heading = QLabel()
        self.heading.setObjectName("dialogTitle")
        self.heading.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit()
        self.text.setObjectName("jobDetails")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # a traceback reads by its lines
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy all", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Put the whole report on the clipboard")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.addWidget(self.heading)
        layout.addWidget(self.error)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.job: dict[str, Any] = {}
        self.show_job(job)
        self.text.setFocus()

    def show_job(self, job: dict[str, Any]) -> None:
        """Show this job (again, when the page has newer news of it); the place one was reading at stays."""
        self.job = job
        self.heading.setText(str(job.get("title") or "Job"))
        self.error.setText(str(job.get("error") or ""))
        self.error.setVisible(bool(job.get("error")))
        report = job_report(job)
        if report != self.text.toPlainText():
            scroll = self.text.verticalScrollBar().value()
            self.text.setPlainText(report)
            self.text.verticalScrollBar().setValue(scroll)

    def job_id(self) -> str:
        """The id of the job shown."""
        return str(self.job.get("id", ""))

    def copy(self) -> None:
        """The whole report to the clipboard."""
        QGuiApplication.clipboard().setText(self.text.toPlainText())
