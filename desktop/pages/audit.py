"""Audit: the security log, newest first, filtered by action, actor, outcome and time; one event in full below."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from PySide6.QtCore import QDate, QDateTime, QTime, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from desktop.api import ApiClient
from desktop.models.rows_model import Column, local_time
from desktop.pages.list_page import ListPage

OUTCOME_COLOURS = {"success": None, "failure": "#a4262c", "denied": "#b35c00"}
PAGE_SIZE = 100
TYPING_PAUSE_MS = 300  # filter once typing pauses, not on every key
DETAILS_MIN_HEIGHT = 60  # a few lines of the event; the splitter above it gives it more on demand
DATE_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"


def rfc3339(moment: QDateTime) -> str:
    """A date-time edit's local time as RFC 3339 with the local zone, as the API asks."""
    return moment.toPython().astimezone().isoformat(timespec="seconds")


COLUMNS = [
    Column("Time", lambda e: local_time(e["at"]), whole=True),
    Column("Actor", lambda e: e["actor_label"]),
    Column("Action", lambda e: e["action"]),
    Column("Target", lambda e: e["target"] or ""),
    Column("Outcome", lambda e: e["outcome"], lambda e: OUTCOME_COLOURS.get(e["outcome"])),
    Column("Client", lambda e: e["client"] or ""),
    Column("Details", lambda e: json.dumps(e["details"], ensure_ascii=False) if e["details"] else ""),
]


class AuditPage(ListPage):
    """Who did what, from where, and how it ended."""

    title = "Audit log"
    nouns = ("event", "events")
    subtitle = "Sign-ins, denials and every change to users, roles and keys. Tamper-evident: `outpost audit verify`."

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.action = QLineEdit()
        self.action.setPlaceholderText("Action starts with… e.g. user, auth.login")
        self.search = self.action  # Ctrl+F lands here
        self.actor = QLineEdit()
        self.actor.setPlaceholderText("Actor contains…")
        self.outcome = QComboBox()
        for value, text in [("", "Any outcome"), ("success", "Success"), ("failure", "Failure"), ("denied", "Denied")]:
            self.outcome.addItem(text, value)
        # Whole days by default (yesterday's start to tomorrow's): a range ticked hours later still ends after now.
        self.since_on, self.since = self._moment_filter("From", -1)
        self.until_on, self.until = self._moment_filter("Until", 1)
        apply = QPushButton("Filter")
        apply.clicked.connect(self.refresh)
        self.typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self.typing.timeout.connect(self.refresh)
        for line in (self.action, self.actor):
            line.returnPressed.connect(self.refresh)
        # The action box is the page's search (ListPage debounces it); the actor box pauses here alike.
        self.actor.textChanged.connect(self.typing.start)
        self.outcome.currentIndexChanged.connect(self.refresh)
        filters = QHBoxLayout()
        filters.addWidget(self.action, 2)
        filters.addWidget(self.actor, 2)
        filters.addWidget(self.outcome, 1)
        filters.addWidget(apply)
        dates = QHBoxLayout()
        for check, edit in ((self.since_on, self.since), (self.until_on, self.until)):
            dates.addWidget(check)
            dates.addWidget(edit)
        dates.addStretch(1)
        self.body.addLayout(filters)
        self.body.addLayout(dates)
        self.details = QPlainTextEdit()
        self.details.setObjectName("eventDetails")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select an event to see all of it. Drag the bar above to resize this panel.")
        self.details.setMinimumHeight(DETAILS_MIN_HEIGHT)
        self.add_table(self.details)
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        self.model.modelReset.connect(self._show_selected)
        self.older_button = QPushButton("Load older events")
        self.older_button.clicked.connect(self.load_older)
        self.footer.addWidget(self.older_button)
        self.page_size = PAGE_SIZE
        self.next_cursor: str | None = None
        self.pages_shown = 1  # the newest page and the older ones loaded on demand: a reload loads as many
        self._shown_query: dict[str, str] | None = None
        self.older_button.setEnabled(False)

    def _moment_filter(self, label: str, days: int) -> tuple[QCheckBox, QDateTimeEdit]:
        """A checkbox that turns the filter on, and its date-time edit (off until ticked), at midnight days away."""
        check = QCheckBox(label)
        edit = QDateTimeEdit(QDateTime(QDate.currentDate().addDays(days), QTime(0, 0)))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat(DATE_TIME_FORMAT)
        edit.setEnabled(False)
        check.toggled.connect(edit.setEnabled)
        check.toggled.connect(lambda _on: self.refresh())
        edit.editingFinished.connect(lambda: check.isChecked() and self.refresh())
        return check, edit

    def _query(self, cursor: str | None = None) -> dict[str, str]:
        query = {"limit": str(self.page_size)}
        for key, value in (("action", self.action.text().strip()), ("actor", self.actor.text().strip())):
            if value:
                query[key] = value
        if self.outcome.currentData():
            query["outcome"] = str(self.outcome.currentData())
        if self.since_on.isChecked():
            query["since"] = rfc3339(self.since.dateTime())
        if self.until_on.isChecked():
            query["until"] = rfc3339(self.until.dateTime())
        if cursor:
            query["cursor"] = cursor
        return query

    def path(self) -> str:
        return "/api/v1/audit?" + urlencode(self._query())

    def load(self) -> None:
        """The newest events, as many pages of them as were shown (a reload keeps what the person loaded)."""
        self.typing.stop()
        query = self._query()
        if query != self._shown_query:
            self.pages_shown = 1  # other filters: from the newest page again
        rows: list[dict[str, Any]] = []
        fetched = [0]

        def page_loaded(data: Any) -> None:
            if not isinstance(data, dict):
                self._loaded(data)
                return
            rows.extend(data.get("items") or [])
            fetched[0] += 1
            cursor = data.get("next_cursor")
            if cursor and fetched[0] < self.pages_shown:
                self.api.get(self._page_path(query, cursor), guarded, self.loads.guard(self._failed))
                return
            self.pages_shown = fetched[0]
            self._shown_query = query
            self._loaded({**data, "items": rows})

        guarded = self.loads.guard(page_loaded)
        self.api.get(self._page_path(query), guarded, self.loads.guard(self._failed))

    def stop(self) -> None:
        """Forget what was shown, the pages loaded too (signed out)."""
        super().stop()
        self._shown_query = None
        self.pages_shown = 1

    @staticmethod
    def _page_path(query: dict[str, str], cursor: str | None = None) -> str:
        return "/api/v1/audit?" + urlencode({**query, "cursor": cursor} if cursor else query)

    def after_load(self, data: dict[str, Any]) -> None:
        self.next_cursor = data.get("next_cursor")
        self.older_button.setEnabled(bool(self.next_cursor))

    def _show_selected(self, *_args: object) -> None:
        event = self.selected()
        self.details.setPlainText(json.dumps(event, indent=2, ensure_ascii=False) if event else "")

    def load_older(self) -> None:
        """Append the next page of older events (dropped if a reload starts meanwhile: it brings its own)."""
        if not self.next_cursor or self._shown_query is None:
            return
        path = self._page_path(self._shown_query, self.next_cursor)
        self.api.get(path, self.loads.guard(self._older_loaded), self.loads.guard(self._failed))

    def _older_loaded(self, data: dict[str, Any]) -> None:
        self.model.append_rows(list(data.get("items") or []))
        self.pages_shown += 1
        self.after_load(data)
        self.show_count()
        self.loaded.emit()
