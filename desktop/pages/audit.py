"""Audit: the security log, newest first, filtered by action, actor and outcome, older pages on demand."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from desktop.api import ApiClient
from desktop.models.rows_model import Column, short_time
from desktop.pages.list_page import ListPage

OUTCOME_COLOURS = {"success": None, "failure": "#a4262c", "denied": "#b35c00"}
PAGE_SIZE = 100

COLUMNS = [
    Column("Time", lambda e: short_time(e["at"])),
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
        self.action.setPlaceholderText("Action, or a prefix such as user.")
        self.search = self.action  # Ctrl+F lands here, and it searches as one types
        self.actor = QLineEdit()
        self.actor.setPlaceholderText("Actor contains…")
        self.outcome = QComboBox()
        for value, text in [("", "Any outcome"), ("success", "Success"), ("failure", "Failure"), ("denied", "Denied")]:
            self.outcome.addItem(text, value)
        apply = QPushButton("Filter")
        apply.clicked.connect(self.refresh)
        for line in (self.action, self.actor):
            line.returnPressed.connect(self.refresh)
        filters = QHBoxLayout()
        filters.addWidget(self.action, 2)
        filters.addWidget(self.actor, 2)
        filters.addWidget(self.outcome, 1)
        filters.addWidget(apply)
        self.body.addLayout(filters)
        self.add_table()
        self.older_button = QPushButton("Load older events")
        self.older_button.clicked.connect(self.load_older)
        self.body.addWidget(self.older_button)
        self.next_cursor: str | None = None
        self.older_button.setEnabled(False)

    def _query(self, cursor: str | None = None) -> dict[str, str]:
        query = {"limit": str(PAGE_SIZE)}
        for key, value in (("action", self.action.text().strip()), ("actor", self.actor.text().strip())):
            if value:
                query[key] = value
        if self.outcome.currentData():
            query["outcome"] = str(self.outcome.currentData())
        if cursor:
            query["cursor"] = cursor
        return query

    def path(self) -> str:
        return "/api/v1/audit?" + urlencode(self._query())

    def refresh(self) -> None:
        """Load the newest page; older ones come on demand."""
        self.api.get(self.path(), self._loaded, self._failed)

    def after_load(self, data: dict[str, Any]) -> None:
        self.next_cursor = data.get("next_cursor")
        self.older_button.setEnabled(bool(self.next_cursor))

    def load_older(self) -> None:
        """Append the next page of older events."""
        if not self.next_cursor:
            return
        self.api.get("/api/v1/audit?" + urlencode(self._query(self.next_cursor)), self._older_loaded, self._failed)

    def _older_loaded(self, data: dict[str, Any]) -> None:
        self.model.append_rows(list(data.get("items") or []))
        self.after_load(data)
        self.loaded.emit()
