"""Collections: their list with record counts, the schema editor, deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.rows_model import Column, short_time
from desktop.pages.list_page import ListPage
from desktop.pages.schema_editor import SchemaEditor
from desktop.widgets.confirm import confirm

COLUMNS = [
    Column("Name", lambda c: c["name"]),
    Column("Records", lambda c: f"{c.get('record_count', 0):,}", sort=lambda c: c.get("record_count", 0)),
    Column("Fields", lambda c: ", ".join(f["name"] for f in c.get("fields") or []) or "—"),
    Column("Description", lambda c: c.get("description") or ""),
    Column("Updated", lambda c: short_time(c.get("updated_at"))),
]

Done = Callable[[Any], None]
Failed = Callable[[ApiError], None]


def collection_path(name: str) -> str:
    """The URL of one collection."""
    return f"/api/v1/collections/{quote(name, safe='')}"


class CollectionsPage(ListPage):
    """The collections of this instance: user-defined tables."""

    title = "Collections"
    subtitle = "Your tables: their fields, types and rules. Records are on the Records page."
    nouns = ("collection", "collections")

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.add_table()
        self.new_button = self.header.add_button("New collection…", "primary")
        self.edit_button = self.header.add_button("Edit schema…")
        self.delete_button = self.header.add_button("Delete…")
        self.destructive_button = self.delete_button  # Del
        self.new_button.clicked.connect(self.new_collection)
        self.edit_button.clicked.connect(self.edit_schema)
        self.delete_button.clicked.connect(self.delete_collection)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_schema())
        self.dialog: SchemaEditor | QMessageBox | None = None
        self._selection_changed()

    def path(self) -> str:
        return "/api/v1/collections"

    def _selection_changed(self, *_args: object) -> None:
        chosen = self.selected() is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _saved(self, done: Done) -> Done:
        def saved(data: Any) -> None:
            done(data)
            self.refresh()

        return saved

    def new_collection(self) -> SchemaEditor:
        """The schema editor for a new collection."""
        editor = SchemaEditor(
            None,
            lambda body, done, failed: self.api.request("POST", self.path(), self._saved(done), failed, body=body),
            None,
            self,
        )
        self.dialog = editor
        editor.open()
        return editor

    def edit_schema(self) -> SchemaEditor | None:
        """The schema editor for the selected collection, with Preview (a dry run)."""
        collection = self.selected()
        if collection is None:
            return None
        path = collection_path(collection["name"])
        editor = SchemaEditor(
            collection,
            lambda body, done, failed: self.api.request("PATCH", path, self._saved(done), failed, body=body),
            lambda body, done, failed: self.api.request("PATCH", f"{path}?dry_run=true", done, failed, body=body),
            self,
        )
        self.dialog = editor
        editor.open()
        return editor

    def delete_collection(self) -> QMessageBox | None:
        """Delete the selected collection and all its records, after a confirmation."""
        collection = self.selected()
        if collection is None:
            return None
        count = int(collection.get("record_count") or 0)
        records = f"its {count:,} record{'' if count == 1 else 's'}" if count else "its table"
        self.dialog = confirm(
            self,
            "Delete collection",
            f"Delete {collection['name']} and {records}? This cannot be undone.",
            "Delete collection",
            lambda: self.api.request(
                "DELETE",
                collection_path(collection["name"]),
                lambda _d: self.refresh(),
                lambda e: self.header.show_error(self.explain(e)),
            ),
        )
        return self.dialog  # type: ignore[return-value]
