"""A progress bar that follows one background job until it ends, asking the backend how it goes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from desktop.api import ApiClient, ApiError

FOLLOW_MS = 500  # a job's progress moves in chunks; twice a second looks live and costs the backend little
AWAY_MS = 2_000  # while the backend does not answer, ask less often
ENDED = frozenset({"succeeded", "failed", "cancelled"})


class JobProgress(QWidget):
    """The job's progress and message; `ended` once it has succeeded, failed or been cancelled.

    It asks only while it is visible: a closed dialog or a page out of sight costs the backend nothing,
    and on showing again it catches up at once.
    """

    changed = Signal(dict)  # the job, each time it is read
    ended = Signal(dict)  # the job, once, in its final state
    lost = Signal(object)  # ApiError: the job cannot be read any more (gone, or no right to read it)

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.job: dict[str, Any] | None = None
        self.following = False
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgress")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)  # dark text on the filled part reads badly: the percentage leads the message
        self.message = QLabel()
        self.message.setObjectName("jobMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        self.timer = QTimer(self, singleShot=True, interval=FOLLOW_MS)
        self.timer.timeout.connect(self._ask)
        self._asking = False

    def follow(self, job: dict[str, Any]) -> None:
        """Show this job (as the backend just returned it) and follow it until it ends."""
        self.following = True
        self._show(job)

    def stop(self) -> None:
        """Stop asking (the job itself goes on)."""
        self.following = False
        self.timer.stop()

    def job_id(self) -> str | None:
        """The id of the job shown, if any."""
        return str(self.job["id"]) if self.job else None

    def _ask(self) -> None:
        if not self.following or self.job is None or not self.isVisible() or self._asking:
            return
        self._asking = True
        job_id = self.job_id()

        def read(job: Any) -> None:
            self._asking = False
            if self.following and isinstance(job, dict) and job.get("id") == job_id:
                self._show(job)

        def failed(error: ApiError) -> None:
            self._asking = False
            if not self.following or self.job_id() != job_id:
                return
            if error.status == 0:
                self.message.setText(f"{self.job_text()} — the backend does not answer; asking again…")
                self.timer.start(AWAY_MS)
                return
            self.stop()
            self.lost.emit(error)

        self.api.job(str(job_id), read, failed)

    def _show(self, job: dict[str, Any]) -> None:
        self.job = job
        self.bar.setValue(max(0, min(100, int(job.get("progress") or 0))))
        self.message.setText(self.job_text())
        self.changed.emit(job)
        if job.get("state") in ENDED:
            self.stop()
            self.ended.emit(job)
        elif self.following:
            self.timer.start(FOLLOW_MS)

    def job_text(self) -> str:
        """ "45 % · 1200 of 5000 records": the progress, and the message as the backend words it (or the state)."""
        job = self.job or {}
        return f"{self.bar.value()} % · {job.get('message') or job.get('state') or ''}"

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Catch up at once on showing again."""
        super().showEvent(event)
        if self.following and not self.timer.isActive():
            self.timer.start(0)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        """Out of sight: stop asking until shown again."""
        super().hideEvent(event)
        self.timer.stop()
