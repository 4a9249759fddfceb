"""Saving a job's file: ask where (Qt's save dialog), then download it there with its progress in bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtNetwork import QNetworkReply
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.job_format import file_type_filter, human_size, suggested_file_name


def ask_where_to_save(parent: QWidget, job: dict[str, Any], title: str = "Save the file") -> Path | None:
    """The path the person picks for the job's file (their downloads folder and the file's name offered); None
    if they cancel."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation) or str(Path.home())
    offered = str(Path(folder) / suggested_file_name(job))
    chosen, _type = QFileDialog.getSaveFileName(parent, title, offered, file_type_filter(job))
    return Path(chosen) if chosen else None


class FileSaveProgress(QWidget):
    """A job's file on its way to disk: a bar and "40.0 KB of 100.2 KB", then where it was saved, or why not."""

    saved = Signal(object)  # the Path written
    failed = Signal(str)  # why not, in words

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.bar = QProgressBar()
        self.bar.setObjectName("fileProgress")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        self.bar.hide()
        self.label = QLabel()
        self.label.setObjectName("fileSaveState")
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.reply: QNetworkReply | None = None
        self.destination: Path | None = None
        self.received = 0

    def busy(self) -> bool:
        """Whether a file is on its way now."""
        return self.reply is not None

    def save(self, job: dict[str, Any], destination: Path) -> None:
        """Download the job's file into destination (put in place whole when it is all in)."""
        self.destination = destination
        self.received = 0
        expected = (job.get("result") or {}).get("bytes")
        self.bar.setValue(0)
        self.bar.show()
        self.label.setText(f"Saving {destination.name}…" + (f" ({human_size(expected)})" if expected else ""))
        self.reply = self.api.save_job_file(
            str(job["id"]), destination, self._saved, self._failed, lambda got, total: self._progress(got, total)
        )

    def _progress(self, received: int, total: int) -> None:
        self.received = received
        if total > 0:
            self.bar.setValue(int(received * 100 / total))
            self.label.setText(f"Saving {self._name()}: {human_size(received)} of {human_size(total)}")
        else:
            self.bar.setRange(0, 0)  # a size not known ahead: a busy bar
            self.label.setText(f"Saving {self._name()}: {human_size(received)}")

    def _saved(self, path: Any) -> None:
        self.reply = None
        self.bar.setRange(0, 100)
        self.bar.setValue(100)
        self.bar.hide()
        written = Path(path)
        size = f"{human_size(self.received)} " if self.received else ""
        self.label.setText(f"Saved {size}to {written}")
        self.saved.emit(written)

    def _failed(self, error: ApiError) -> None:
        self.reply = None
        self.bar.setRange(0, 100)
        self.bar.hide()
        if error.status == 403:
            message = f"Your account may not download this file: {error.detail}"
        elif error.status == 404:
            message = f"The file is not there any more: {error.detail}"
        else:
            message = f"Not saved: {error.detail}"
        self.label.setText(message)
        self.failed.emit(message)

    def _name(self) -> str:
        return self.destination.name if self.destination else "the file"
