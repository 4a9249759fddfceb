"""The schema editor: a collection's fields in a table, a preview of the change, refusals in plain words."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiError

TYPES = ("text", "integer", "number", "boolean", "date", "datetime", "email", "url", "select", "json", "relation")
FLAGS = ("required", "unique", "indexed")
CONSTRAINTS = ("min", "max", "min_length", "max_length", "pattern")
ON_DELETE = ("restrict", "cascade", "set_null")
FIELD_PATH = re.compile(r"^fields\[(\d+)\]")


def new_field(name: str = "") -> dict[str, Any]:
    """A field as the contract writes one, with no id yet (the server gives it one)."""
    return {
        "name": name,
        "type": "text",
        "required": False,
        "unique": False,
        "indexed": False,
        "default": None,
        "constraints": dict.fromkeys(CONSTRAINTS),
        "options": [],
        "multiple": False,
        "relation": None,
    }


SAMPLES_SHOWN = 3  # record ids are long: three are enough to go and look, more bury the sentence


def plural(count: int, noun: str) -> str:
    """'1 record', '37 records'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def change_words(changes: list[dict[str, Any]]) -> list[str]:
    """A dry run's changes, one plain line each."""
    lines = []
    for change in changes:
        detail, field = str(change.get("detail") or ""), str(change.get("field") or "")
        if not detail:
            lines.append(f"{change.get('kind', 'change')} {field}".strip())
        else:  # the server's detail may leave out the field ("becomes required"): say which one
            lines.append(detail if not field or field in detail else f"{field}: {detail}")
    return lines


def violation_words(problem: dict[str, Any], fields_sent: list[dict[str, Any]]) -> list[str]:
    """A refusal's violations as sentences: '37 records have no value for site, e.g. a, b, c.'"""
    messages: dict[str, str] = {}
    for error in problem.get("errors") or []:
        matched = FIELD_PATH.match(str(error.get("field", "")))
        if matched and int(matched.group(1)) < len(fields_sent):
            messages.setdefault(fields_sent[int(matched.group(1))]["name"], str(error.get("message", "")))
    lines = []
    for violation in problem.get("violations") or []:
        field, count = str(violation.get("field", "")), int(violation.get("count", 0))
        message = messages.get(field) or f"{plural(count, 'record')} would not fit the new definition"
        samples = [str(s) for s in violation.get("sample_ids") or []][:SAMPLES_SHOWN]
        example = f", e.g. {', '.join(samples)}{' …' if count > len(samples) else ''}" if samples else ""
        lines.append(f"{message} for {field}{example}.")
    if not lines:
        lines = [f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or []]
    return lines


class SchemaEditor(QDialog):
    """Edit a collection's name (when new), description and fields; Preview asks the server what would change.

    save(body, on_done, on_error) and preview(body, on_done, on_error) are the page's API calls.
    """

    def __init__(
        self,
        collection: dict[str, Any] | None,
        save: Callable[[dict[str, Any], Callable[[Any], None], Callable[[ApiError], None]], None],
        preview: Callable[[dict[str, Any], Callable[[Any], None], Callable[[ApiError], None]], None] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("schemaEditor")
        self.creating = collection is None
        self.setWindowTitle("New collection" if self.creating else f"Schema of {collection['name']}")  # type: ignore[index]
        self.setMinimumSize(760, 560)
        self.save_call, self.preview_call = save, preview
        self.fields: list[dict[str, Any]] = copy.deepcopy(list((collection or {}).get("fields") or []))
        self.name = QLineEdit((collection or {}).get("name", ""))
        self.name.setObjectName("field_name")
        self.name.setReadOnly(not self.creating)
        if not self.creating:
            # The name is in the table, in permissions and key scopes, in relations and in the change log.
            self.name.setToolTip("Collections cannot be renamed: create a new collection instead.")
            self.name.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab goes to what can be changed
        self.description = QLineEdit((collection or {}).get("description", ""))
        self.description.setObjectName("field_description")
        self.table = QTableWidget(0, 2 + len(FLAGS))
        self.table.setObjectName("fieldsTable")
        self.table.setHorizontalHeaderLabels(["Name", "Type", *[f.capitalize() for f in FLAGS]])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # the flags as wide as their names
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes what is left: no scrolling
        self.add_button = QPushButton("Add field")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.constraint_inputs = {name: QLineEdit() for name in CONSTRAINTS}
        self.options = QLineEdit()
        self.options.setPlaceholderText("comma-separated, for select")
        self.multiple = QCheckBox("several options at once")
        self.relation_target = QLineEdit()
        self.relation_target.setPlaceholderText("collection, for relation")
        self.on_delete = QComboBox()
        self.on_delete.addItems(ON_DELETE)
        self.default = QLineEdit()
        self.default.setPlaceholderText("none")
        self.preview_text = QPlainTextEdit()
        self.preview_text.setObjectName("preview")
        self.preview_text.setReadOnly(True)
        self.preview_text.setPlaceholderText("Preview shows what the change would do, before anything is changed.")
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.submit_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.submit_button.setText("Create collection" if self.creating else "Save schema")
        self.submit_button.setObjectName("primary")
        self.preview_button = self.buttons.addButton("Preview", QDialogButtonBox.ButtonRole.ActionRole)
        self.preview_button.setEnabled(preview is not None)
        self._layout()
        self._loading = False
        for field in self.fields:
            self._append_row(field)
        self.add_button.clicked.connect(self.add_field)
        self.remove_button.clicked.connect(self.remove_field)
        self.up_button.clicked.connect(lambda: self.move_field(-1))
        self.down_button.clicked.connect(lambda: self.move_field(1))
        self.table.itemChanged.connect(self._item_changed)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_details(row))
        for widget in [*self.constraint_inputs.values(), self.options, self.relation_target, self.default]:
            widget.editingFinished.connect(self._details_edited)
        self.multiple.toggled.connect(lambda _on: self._details_edited())
        self.on_delete.activated.connect(lambda _i: self._details_edited())
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.preview_button.clicked.connect(self.preview)
        if self.fields:
            self.table.setCurrentCell(0, 0)
        self._show_details(self.table.currentRow())

    def _layout(self) -> None:
        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("Description", self.description)
        row_buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            row_buttons.addWidget(button)
        row_buttons.addStretch(1)
        self.details = QFormLayout()
        for name, widget in self.constraint_inputs.items():
            self.details.addRow(name.replace("_", " "), widget)
        self.details.addRow("options", self.options)
        self.details.addRow("", self.multiple)
        self.details.addRow("relation to", self.relation_target)
        self.details.addRow("on delete", self.on_delete)
        self.details.addRow("default", self.default)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 3)
        middle.addLayout(self.details, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row_buttons)
        layout.addLayout(middle, 3)
        layout.addWidget(QLabel("What the change does"))
        layout.addWidget(self.preview_text, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    # -- the fields table -------------------------------------------------------------------------------

    def _append_row(self, field: dict[str, Any]) -> None:
        self._loading = True
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(field.get("name", "")))
        kind = QComboBox()
        kind.addItems(TYPES)
        kind.setCurrentText(field.get("type", "text"))
        kind.activated.connect(lambda _i, combo=kind: self._type_chosen(combo))
        self.table.setCellWidget(row, 1, kind)
        for column, flag in enumerate(FLAGS, start=2):
            item = QTableWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if field.get(flag) else Qt.CheckState.Unchecked)
            self.table.setItem(row, column, item)
        self._loading = False

    def _type_chosen(self, combo: QComboBox) -> None:
        for row in range(self.table.rowCount()):
            if self.table.cellWidget(row, 1) is combo:
                self.fields[row]["type"] = combo.currentText()
                if combo.currentText() == "relation" and not self.fields[row].get("relation"):
                    self.fields[row]["relation"] = {"collection": "", "on_delete": "restrict"}
                self._show_details(row)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        field = self.fields[item.row()]
        if item.column() == 0:
            field["name"] = item.text().strip()  # a field with an id keeps it: the server sees a rename
        else:
            field[FLAGS[item.column() - 2]] = item.checkState() == Qt.CheckState.Checked

    def add_field(self, name: str = "") -> None:
        """A new field at the end, its name ready to type."""
        self.fields.append(new_field(name or f"field_{len(self.fields) + 1}"))
        self._append_row(self.fields[-1])
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def remove_field(self) -> None:
        """Remove the selected field (its data goes when the change is saved; Preview says so first)."""
        row = self.table.currentRow()
        if row < 0:
            return
        del self.fields[row]
        self.table.removeRow(row)
        self._show_details(self.table.currentRow())

    def move_field(self, step: int) -> None:
        """Move the selected field up or down: the order of the list is the order of the fields."""
        row = self.table.currentRow()
        other = row + step
        if row < 0 or not 0 <= other < len(self.fields):
            return
        self.fields[row], self.fields[other] = self.fields[other], self.fields[row]
        self._rebuild_table()
        self.table.setCurrentCell(other, 0)

    def _rebuild_table(self) -> None:
        self.table.setRowCount(0)
        for field in self.fields:
            self._append_row(field)

    # -- the details of the selected field ----------------------------------------------------------------

    def _show_details(self, row: int) -> None:
        field = self.fields[row] if 0 <= row < len(self.fields) else None
        self._loading = True
        for name, widget in self.constraint_inputs.items():
            value = ((field or {}).get("constraints") or {}).get(name)
            widget.setText("" if value is None else str(value))
            widget.setEnabled(field is not None)
        kind = (field or {}).get("type")
        self.options.setText(", ".join((field or {}).get("options") or []))
        self.options.setEnabled(kind == "select")
        self.multiple.setChecked(bool((field or {}).get("multiple")))
        self.multiple.setEnabled(kind == "select")
        relation = (field or {}).get("relation") or {}
        self.relation_target.setText(relation.get("collection", ""))
        self.on_delete.setCurrentText(relation.get("on_delete", "restrict"))
        self.relation_target.setEnabled(kind == "relation")
        self.on_delete.setEnabled(kind == "relation")
        default = (field or {}).get("default")
        self.default.setText("" if default is None else str(default))
        self.default.setEnabled(field is not None)
        self._loading = False

    def _details_edited(self) -> None:
        row = self.table.currentRow()
        if self._loading or not 0 <= row < len(self.fields):
            return
        field = self.fields[row]
        constraints = {}
        for name, widget in self.constraint_inputs.items():
            text = widget.text().strip()
            if name == "pattern":
                constraints[name] = text or None
            else:
                try:
                    constraints[name] = (float(text) if "." in text else int(text)) if text else None
                except ValueError:
                    constraints[name] = text  # the server says what is wrong with it
        field["constraints"] = constraints
        field["options"] = [o.strip() for o in self.options.text().split(",") if o.strip()]
        field["multiple"] = self.multiple.isChecked()
        if field.get("type") == "relation":
            field["relation"] = {
                "collection": self.relation_target.text().strip(),
                "on_delete": self.on_delete.currentText(),
            }
        else:
            field["relation"] = None
        field["default"] = self.default.text() or None

    # -- preview and save ---------------------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """What is sent: the description and the whole field list (name too when creating)."""
        self._details_edited()
        body: dict[str, Any] = {"description": self.description.text(), "fields": copy.deepcopy(self.fields)}
        if self.creating:
            body["name"] = self.name.text().strip()
        return body

    def preview(self) -> None:
        """Ask the server what the change would do (a dry run), and show it in plain words."""
        if self.preview_call is None:
            return
        body = self.body()
        self.error.hide()
        self.preview_text.setPlainText("Asking the backend…")
        self.preview_call(body, lambda result: self.show_preview(result, body["fields"]), self.show_error)

    def show_preview(self, result: dict[str, Any], fields_sent: list[dict[str, Any]]) -> None:
        """The changes, whether the table is rebuilt, and what the data would refuse."""
        lines = [f"• {line}" for line in change_words(list(result.get("changes") or []))] or ["Nothing would change."]
        if result.get("rebuild"):
            lines.append("The table is rebuilt to make this change: writes wait while it runs.")
        violations = violation_words(result, fields_sent)
        if result.get("violations"):
            lines += ["", "The data refuses this change:", *[f"• {line}" for line in violations]]
        self.preview_text.setPlainText("\n".join(lines))

    def submit(self) -> None:
        """Save the schema; a refusal stays in the dialog, in plain words."""
        body = self.body()
        self.error.hide()
        self.submit_button.setEnabled(False)
        self.save_call(body, lambda _saved: self.accept(), lambda error: self.show_error(error, body["fields"]))

    def show_error(self, error: ApiError, fields_sent: list[dict[str, Any]] | None = None) -> None:
        """A refusal: a 409's violations in the preview area as sentences; other errors on the error line."""
        self.submit_button.setEnabled(True)
        if error.status == 409 and error.problem.get("violations"):
            lines = violation_words(error.problem, fields_sent if fields_sent is not None else self.fields)
            self.preview_text.setPlainText("\n".join(["The data refuses this change:", *[f"• {x}" for x in lines]]))
            self.error.setText(error.detail)
        else:
            details = [f"{e.get('field')}: {e.get('message')}" for e in error.errors]
            self.error.setText(" ".join([error.detail, *details]))
        self.error.show()
