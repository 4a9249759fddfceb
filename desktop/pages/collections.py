"""Collections: their list with record counts, the schema editor, deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.rows_model import Column, local_time
from desktop.pages.export_dialog import ExportDialog
from desktop.pages.import_dialog import ImportDialog
from desktop.pages.list_page import ListPage
from desktop.pages.schema_editor import SchemaEditor
from desktop.widgets.confirm import confirm

COLUMNS = [
    Column("Name", lambda c: c["name"]),
    Column("Records", lambda c: f"{c.get('record_count', 0):,}", sort=lambda c: c.get("record_count", 0)),
    Column("Fields", lambda c: ", ".join(f["name"] for f in c.get("fields") or []) or "—"),
    Column("Description", lambda c: c.get("description") or ""),
    Column("Updated", lambda c: local_time(c.get("updated_at"))),
]

DEMO_PATH = "/api/v1/demo"
DEMO_POLL_MS = 1_000  # how often the page asks how the demo run is going
DEMO_BUTTON = "Create demo data"

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
    open_records = Signal(str)  # the name of the collection whose records to show on the Records page

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.add_table()
        self.new_button = self.header.add_button("New collection…", "primary")
        self.demo_button = self.header.add_button(DEMO_BUTTON)
        self.demo_button.setToolTip("Sites, their equipment and inspections, with relations: 10 400 records to explore")
        self.demo_button.hide()  # only on an instance with no collections
        self.demo_button.clicked.connect(self.create_demo)
        self.edit_button = self.header.add_button("Edit schema…")
        self.delete_button = self.header.add_button("Delete…")
        self.destructive_button = self.delete_button  # Del
        self.new_button.clicked.connect(self.new_collection)
        self.edit_button.clicked.connect(self.edit_schema)
        self.delete_button.clicked.connect(self.delete_collection)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_schema())
        # Under the table, by the count: the header has no room left in a 1024-pixel-wide window.
        self.records_button = QPushButton("Open records")
        self.records_button.setToolTip("Show the selected collection's records on the Records page")
        self.records_button.clicked.connect(self.open_selected_records)
        self.footer.addWidget(self.records_button)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The selected collection's records to a CSV or JSON Lines file")
        self.export_button.clicked.connect(self.export_selected)
        self.footer.addWidget(self.export_button)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Records from a CSV or JSON Lines file into the selected collection")
        self.import_button.clicked.connect(self.import_selected)
        self.footer.addWidget(self.import_button)
        self.dialog: SchemaEditor | QMessageBox | ExportDialog | ImportDialog | None = None
        self.demo_running = False
        self.demo_scale = 1.0  # 10 400 records; tests ask for less
        self._demo_timer = QTimer(self, interval=DEMO_POLL_MS, singleShot=True)
        self._demo_timer.timeout.connect(self._poll_demo)
        self._selection_changed()

    def path(self) -> str:
        return "/api/v1/collections"

    def _selection_changed(self, *_args: object) -> None:
        chosen = self.selected() is not None
        self.records_button.setEnabled(chosen)
        self.export_button.setEnabled(chosen)
        self.import_button.setEnabled(chosen)
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

    def open_selected_records(self) -> None:
        """Show the selected collection's records on the Records page."""
        collection = self.selected()
        if collection is not None:
            self.open_records.emit(collection["name"])

    def export_selected(self) -> ExportDialog | None:
        """The export dialog for the selected collection (all its records; the Records page offers its filter)."""
        collection = self.selected()
        if collection is None:
            return None
        dialog = ExportDialog(self.api, collection["name"], "", self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def import_selected(self) -> ImportDialog | None:
        """The import dialog for the selected collection; the list (its record counts) loads again once it has ended."""
        collection = self.selected()
        if collection is None:
            return None
        dialog = ImportDialog(self.api, collection["name"], self)
        dialog.ended.connect(lambda _job: self.refresh())
        self.dialog = dialog
        dialog.open()
        return dialog

    # -- demo data -------------------------------------------------------------------------------------

    def show_count(self) -> None:
        """The count, and on an empty instance the way to demo data."""
        super().show_count()
        empty = self.model.rowCount() == 0 and not self.search_text()
        offer_demo = empty or self.demo_running
        self.demo_button.setVisible(offer_demo)
        actions = (self.records_button, self.export_button, self.import_button, self.edit_button, self.delete_button)
        for button in actions:
            button.setVisible(not offer_demo)  # nothing to act on: room for the demo button in a narrow window
        if empty and not self.demo_running:
            self.empty_label.setText("No collections yet: create one, or create demo data to explore.")

    def stop(self) -> None:
        """Signed out: stop asking how the demo run goes."""
        self._demo_timer.stop()
        self._demo_busy(False)
        super().stop()

    def create_demo(self) -> None:
        """Ask the backend to make the demo data; the page shows it is busy until the run ends."""
        self._demo_busy(True)
        body = {"scale": self.demo_scale}
        self.api.request("POST", DEMO_PATH, lambda _state: self._demo_timer.start(), self._demo_refused, body=body)

    def _demo_busy(self, busy: bool) -> None:
        self.demo_running = busy
        self.demo_button.setEnabled(not busy)
        self.demo_button.setText("Creating demo data…" if busy else DEMO_BUTTON)
        if busy:
            self.header.clear_error()
            self.empty_label.setText("Making the demo data: sites, equipment and inspections (about a minute)…")

    def _demo_refused(self, error: ApiError) -> None:
        if error.status == 409 and "being made" in error.detail:
            self._demo_timer.start()  # another click or another console started it: wait for that one
            return
        self._demo_busy(False)
        self.header.show_error(self.explain(error))
        self.refresh()

    def _poll_demo(self) -> None:
        self.api.request("GET", DEMO_PATH, self._demo_state, self._demo_refused)

    def _demo_state(self, state: Any) -> None:
        if isinstance(state, dict) and state.get("state") == "running":
            self._demo_timer.start()
            return
        self._demo_busy(False)
        if isinstance(state, dict) and state.get("state") == "failed":
            self.header.show_error(f"The demo data could not be made: {state.get('error')}")
        self.refresh()
