"""What an import comes to in its dialog: the file on its way, the job's progress, then the counts and problems."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient
from desktop.models.import_file import outcome_text, plural, problems_caption
from desktop.models.job_format import human_size
from desktop.widgets.file_save import FileSaveProgress
from desktop.widgets.job_progress import JobProgress

PROBLEM_COLUMNS = ("Row", "Field", "Message")
CELL_PADDING = 16  # pixels beside a fitted column's widest value


class ImportOutcome(QWidget):
    """The sending of the file, the job followed to its end, and what it did: counts, problems, the report."""

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sent = QProgressBar()
        self.sent.setObjectName("uploadProgress")
        self.sent.setRange(0, 100)
        self.sent.setTextVisible(False)
        self.sent_label = QLabel()
        self.sent_label.setObjectName("jobMessage")
        self.sent_label.setWordWrap(True)
        self.progress = JobProgress(api)
        self.summary = QLabel()
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_caption = QLabel()
        self.problems_caption.setObjectName("fieldLabel")
        self.problems = QTableWidget(0, len(PROBLEM_COLUMNS))
        self.problems.setObjectName("importProblems")
        self.problems.setHorizontalHeaderLabels(list(PROBLEM_COLUMNS))
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setTabKeyNavigation(False)
        self.problems.setAlternatingRowColors(True)
        self.problems.setWordWrap(False)
        self.problems.verticalHeader().hide()
        header = self.problems.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems_caption.setBuddy(self.problems)
        self.file_save = FileSaveProgress(api)
        self.rows_counted = ""  # how the file's rows are numbered, said over the problems
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for widget in (self.sent_label, self.sent, self.progress, self.error, self.summary):
            layout.addWidget(widget)
        layout.addWidget(self.problems_caption)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.file_save)
        layout.addStretch()  # while there are no problems to list, the lines stay together at the top
        self.clear()

    def clear(self) -> None:
        """Nothing shown: a new import is being set up."""
        self.progress.stop()
        for widget in (self.sent, self.sent_label, self.progress, self.summary, self.error, self.file_save):
            widget.hide()
        self.show_problems({})

    def sending(self, name: str, size: int) -> None:
        """The file is on its way to the backend."""
        self.clear()
        self.sent.setValue(0)
        self.sent.show()
        self.sent_label.setText(f"Sending {name} ({human_size(size)})… Keep the console open until it is sent.")
        self.sent_label.show()

    def sent_so_far(self, name: str, sent: int, total: int) -> None:
        """How much of the file has gone."""
        if total > 0:
            self.sent.setValue(int(sent * 100 / total))
            self.sent_label.setText(
                f"Sending {name}: {human_size(sent)} of {human_size(total)}… Keep the console open until it is sent."
            )

    def follow(self, job: dict[str, Any], what: str) -> None:
        """The file is in: follow the import's job (what: the file and how it is imported, in a few words)."""
        self.sent.hide()
        self.sent_label.setText(what)
        self.progress.show()
        self.progress.follow(job)

    def show_error(self, message: str) -> None:
        """Why the import did not happen, or failed."""
        self.error.setText(message)
        self.error.show()

    def show_result(self, job: dict[str, Any]) -> None:
        """The job has ended: what it counted, and its first problems."""
        result = job.get("result") or {}
        state = job.get("state")
        if state == "failed":
            self.show_error(f"The import failed: {job.get('error') or job.get('message') or 'no reason was given'}")
        elif state == "cancelled":
            self.show_error("The import was cancelled. Rows it had written before it stopped stay in the collection.")
        if result:
            rows = int(result.get("rows") or 0)
            written = int(result.get("created") or 0) + int(result.get("updated") or 0)
            if state == "failed" and not written:
                faulty = int(result.get("rows_with_problems") or 0)
                verb = "has" if faulty == 1 else "have"
                text = (
                    f"{faulty:,} of the {plural(rows, 'row')} in the file {verb} problems. Put them right and import "
                    f"the file again, or choose “Skip invalid rows” to import the other {rows - faulty:,}."
                )
            else:
                text = f"{outcome_text(result)} ({plural(rows, 'row')} in the file)"
            self.summary.setText(text)
            self.summary.show()
        self.show_problems(result)

    def show_problems(self, result: dict[str, Any]) -> None:
        """The first problems of the result in the table (hidden when there are none)."""
        first = [p for p in result.get("first_problems") or [] if isinstance(p, dict)]
        self.problems.setRowCount(len(first))
        for row, problem in enumerate(first):
            for column, key in enumerate(("row", "field", "message")):
                item = QTableWidgetItem(str(problem.get(key, "")))
                item.setToolTip(item.text())
                self.problems.setItem(row, column, item)
        for column in (0, 1):
            self.problems.resizeColumnToContents(column)
            self.problems.setColumnWidth(column, self.problems.columnWidth(column) + CELL_PADDING)
        counted = f", {self.rows_counted}" if self.rows_counted else ""
        self.problems_caption.setText(f"{problems_caption(result)}{counted}:" if first else "")
        self.problems_caption.setVisible(bool(first))
        self.problems.setVisible(bool(first))

    def problem_rows(self) -> list[tuple[str, str, str]]:
        """The problems table as it reads: (row, field, message) each."""
        return [
            tuple(self.problems.item(row, column).text() for column in range(3))  # type: ignore[misc]
            for row in range(self.problems.rowCount())
        ]
