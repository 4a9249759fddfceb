"""Cell editors by field type: a box of options for select and boolean, a line with a check for the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.models import field_values

Index = QModelIndex | QPersistentModelIndex


class FieldDelegate(QStyledItemDelegate):
    """Edits a cell as its field's type asks; what was typed is parsed before the model is asked to save it.

    field_of(column) gives the field definition of a column (None for system columns, which are not edited);
    refused(row, key, message) is told when the text cannot be the field's value (it never reaches the API).
    """

    def __init__(
        self,
        field_of: Callable[[int], dict[str, Any] | None],
        refused: Callable[[int, str, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.field_of = field_of
        self.refused = refused

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:  # noqa: N802
        field = self.field_of(index.column()) or {}
        kind = field.get("type")
        if kind == "boolean" or (kind == "select" and not field.get("multiple")):
            combo = QComboBox(parent)
            combo.setObjectName("cellChoice")
            choices = ["true", "false"] if kind == "boolean" else list(field.get("options") or [])
            combo.addItem("", "")
            for choice in choices:
                combo.addItem(choice, choice)
            return combo
        line = QLineEdit(parent)
        line.setObjectName("cellEditor")
        hints = {"date": "2026-03-31", "datetime": "2026-03-31T14:05:00Z", "json": "JSON", "select": "a, b"}
        line.setPlaceholderText(hints.get(str(kind), ""))
        return line

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802
        field = self.field_of(index.column()) or {}
        text = field_values.as_text(field, index.data(Qt.ItemDataRole.EditRole))
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(text)))
        elif isinstance(editor, QLineEdit):
            editor.setText(text)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:  # noqa: N802
        field = self.field_of(index.column())
        if field is None:
            return
        text = editor.currentData() if isinstance(editor, QComboBox) else editor.text()  # type: ignore[attr-defined]
        try:
            value = field_values.parse(field, str(text or ""))
        except ValueError as refusal:
            self.refused(index.row(), field["name"], str(refusal))
            return
        if value != index.data(Qt.ItemDataRole.EditRole):
            model.setData(index, value, Qt.ItemDataRole.EditRole)
