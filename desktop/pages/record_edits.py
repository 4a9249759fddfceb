"""A cell's edit on the Records page saved on the server, guarded by the record's revision; a conflict asks
whether to take the other change (reload) or keep this one (overwrite)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from PySide6.QtWidgets import QMessageBox

from desktop.api import ApiError
from desktop.widgets.confirm import mark_destructive

if TYPE_CHECKING:
    from desktop.pages.records import RecordsPage


def records_path(collection: str, record_id: str | None = None) -> str:
    """The records URL of a collection, or of one record in it."""
    path = f"/api/v1/collections/{quote(collection, safe='')}/records"
    return f"{path}/{quote(record_id, safe='')}" if record_id else path


class CellEdits:
    """The edits of the page's grid, one PATCH each."""

    def __init__(self, page: RecordsPage) -> None:
        self.page = page

    def save(self, row: int, key: str, value: Any, *, overwrite: bool = False) -> None:
        """PATCH one field of the record at row, guarded by its revision (unless overwriting)."""
        page = self.page
        record = page.model.row(row)
        if record is None or page.collection is None:
            return
        collection, record_id, generation = page.collection["name"], str(record["id"]), page.model.generation
        headers = {} if overwrite else {"If-Match": f'"{record.get("_rev", "")}"'}

        def still_there() -> bool:
            current = page.model.row(row)
            return generation == page.model.generation and current is not None and current.get("id") == record_id

        def saved(updated: Any) -> None:
            if still_there() and isinstance(updated, dict):
                page.model.replace_row(row, updated)

        def refused(error: ApiError) -> None:
            if not still_there():
                return
            if error.status == 412:
                self.ask_reload_or_overwrite(row, key, value)
            elif error.status == 422:
                messages = error.field_errors()
                page.model.set_cell_error(row, key, messages.get(key) or error.detail)
                page.header.show_error(f"{key}: {messages.get(key) or error.detail}")
            else:
                page.header.show_error(page.explain(error))

        page.api.request(
            "PATCH", records_path(collection, record_id), saved, refused, body={key: value}, headers=headers
        )

    def ask_reload_or_overwrite(self, row: int, key: str, value: Any) -> QMessageBox:
        """The record changed elsewhere since it was loaded: take theirs (reload) or keep this edit (overwrite)."""
        page = self.page
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Changed elsewhere",
            f"This record was changed elsewhere since it was loaded. Reload it and lose your edit of {key}, "
            f"or overwrite the other change with yours?",
            QMessageBox.StandardButton.NoButton,
            page,
        )
        reload = box.addButton("Reload", QMessageBox.ButtonRole.AcceptRole)
        overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        mark_destructive(overwrite)
        box.setDefaultButton(reload)
        box.setEscapeButton(cancel)

        def chosen(button: object) -> None:
            if button is reload:
                self.reload_row(row)
            elif button is overwrite:
                self.save(row, key, value, overwrite=True)

        box.buttonClicked.connect(chosen)
        box.open()
        page.dialog = box
        return box

    def reload_row(self, row: int) -> None:
        """Fetch the server's copy of the record at row."""
        page = self.page
        record = page.model.row(row)
        if record is None or page.collection is None:
            return
        record_id = str(record["id"])
        page.api.get(
            records_path(page.collection["name"], record_id),
            lambda fresh: (
                page.model.row(row) is not None
                and page.model.row(row).get("id") == record_id  # type: ignore[union-attr]
                and page.model.replace_row(row, fresh)
            ),
            lambda error: page.header.show_error(page.explain(error)),
        )
