"""A dialog of labelled fields whose API errors appear under the field they concern."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiError
from desktop.widgets.confirm import mark_destructive

FieldKind = Literal["text", "email", "password", "checks", "described_checks", "choice"]
DESCRIBED_CHECKS_WIDTH = 680
COLUMN_GAP = 16
DESCRIBED_CHECKS_ROWS = 9  # rows shown before the list scrolls (the dialog can be enlarged for more)


@dataclass
class FormField:
    """One input: its API name, label, kind, and for checks/choice the options."""

    name: str
    label: str
    kind: FieldKind = "text"
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    help: str = ""
    details: dict[str, str] = field(default_factory=dict)  # described_checks: what each option means, beside it


def described_checks(spec: FormField) -> QTreeWidget:
    """Checkable options in one column, what each means in the next (wrapped, never cut off); it scrolls."""
    tree = QTreeWidget()
    tree.setObjectName(f"field_{spec.name}")
    tree.setColumnCount(2)
    tree.setHeaderLabels(["Name", "What it allows"])
    tree.setRootIsDecorated(False)
    tree.setWordWrap(True)
    tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    tree.header().setStretchLastSection(True)
    fill_described_checks(tree, spec.options, spec.details, set(spec.value or []))
    return tree


def fill_described_checks(
    tree: QTreeWidget, options: list[tuple[str, str]], details: dict[str, str], chosen: set[str]
) -> None:
    """(Re)fill a described_checks tree: these options, what each means, the chosen ones ticked."""
    tree.clear()
    for value, text in options:
        description = details.get(value, "")
        item = QTreeWidgetItem([text, description])
        item.setData(0, Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
        item.setToolTip(0, description)
        item.setToolTip(1, description)
        tree.addTopLevelItem(item)
    tree.resizeColumnToContents(0)
    tree.setColumnWidth(0, tree.columnWidth(0) + COLUMN_GAP)
    rows = min(max(len(options), 2), DESCRIBED_CHECKS_ROWS)
    row_height = max(tree.sizeHintForRow(0), 22)
    tree.setMinimumHeight(row_height * rows + tree.header().sizeHint().height() + 2 * tree.frameWidth())


class FormDialog(QDialog):
    """Fields, a general error line, and OK/Cancel; submit hands the values to a callback that calls the API."""

    submitted = Signal(dict)

    def __init__(
        self,
        title: str,
        intro: str,
        fields: list[FormField],
        submit_label: str,
        on_submit: Callable[[dict[str, Any]], None],
        parent: QWidget | None = None,
        *,
        destructive: bool = False,
    ) -> None:
        """destructive: the submit button is red, Cancel is the default, and Return in a field does not submit."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("formDialog")
        self.setMinimumWidth(440)
        self.on_submit = on_submit
        self.destructive = destructive
        self.inputs: dict[str, QWidget] = {}
        self.field_errors: dict[str, QLabel] = {}
        self.fields = {f.name: f for f in fields}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(4)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        layout.addWidget(heading)
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            text.setObjectName("dialogIntro")
            layout.addWidget(text)
        for spec in fields:
            label = QLabel(spec.label)
            label.setObjectName("fieldLabel")
            widget = self._make_input(spec)
            label.setBuddy(widget)
            layout.addWidget(label)
            # A long list takes the dialog's spare height, so enlarging the dialog shows more of it.
            layout.addWidget(widget, 1 if isinstance(widget, QTreeWidget) else 0)
            if spec.help:
                hint = QLabel(spec.help)
                hint.setObjectName("fieldHelp")
                hint.setWordWrap(True)
                layout.addWidget(hint)
            error = QLabel()
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.hide()
            layout.addWidget(error)
            self.inputs[spec.name] = widget
            self.field_errors[spec.name] = error
        self.general_error = QLabel()
        self.general_error.setObjectName("formError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        layout.addSpacing(8)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.submit_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.submit_button.setText(submit_label)
        self.submit_button.setObjectName("primary")
        if destructive:
            mark_destructive(self.submit_button)
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _make_input(self, spec: FormField) -> QWidget:
        if spec.kind == "described_checks":
            self.setMinimumWidth(DESCRIBED_CHECKS_WIDTH)
            return described_checks(spec)
        if spec.kind == "checks":
            checks = QListWidget()
            checks.setObjectName(f"field_{spec.name}")
            chosen = set(spec.value or [])
            for value, text in spec.options:
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, value)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
                checks.addItem(item)
            rows = max(len(spec.options), 2)
            row_height = max(checks.sizeHintForRow(0), 20)
            checks.setFixedHeight(min(240, row_height * rows + 2 * checks.frameWidth() + 8))
            return checks
        if spec.kind == "choice":
            combo = QComboBox()
            combo.setObjectName(f"field_{spec.name}")
            for value, text in spec.options:
                combo.addItem(text, value)
            if spec.value is not None:
                combo.setCurrentIndex(max(0, combo.findData(spec.value)))
            return combo
        line = QLineEdit()
        line.setObjectName(f"field_{spec.name}")
        if spec.kind == "password":
            line.setEchoMode(QLineEdit.EchoMode.Password)
        if spec.value:
            line.setText(str(spec.value))
        if not self.destructive:
            line.returnPressed.connect(self.submit)
        return line

    def set_value(self, name: str, value: Any) -> None:
        """Fill a field (tests and callers that prefill)."""
        widget = self.inputs[name]
        if isinstance(widget, QLineEdit):
            widget.setText(str(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(0, widget.findData(value)))
        elif isinstance(widget, QListWidget):
            for row in range(widget.count()):
                item = widget.item(row)
                checked = item.data(Qt.ItemDataRole.UserRole) in set(value)
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        elif isinstance(widget, QTreeWidget):
            for row in range(widget.topLevelItemCount()):
                tree_item = widget.topLevelItem(row)
                checked = tree_item.data(0, Qt.ItemDataRole.UserRole) in set(value)
                tree_item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_options(self, name: str, options: list[tuple[str, str]], details: dict[str, str]) -> None:
        """Offer other options in a described_checks field (they arrived late); what was ticked stays ticked."""
        tree = self.inputs[name]
        assert isinstance(tree, QTreeWidget)
        self.fields[name].options, self.fields[name].details = options, details
        fill_described_checks(tree, options, details, set(self.values()[name]))

    def values(self) -> dict[str, Any]:
        """Every field's current value."""
        result: dict[str, Any] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QLineEdit):
                result[name] = widget.text()
            elif isinstance(widget, QComboBox):
                result[name] = widget.currentData()
            elif isinstance(widget, QListWidget):
                result[name] = [
                    widget.item(row).data(Qt.ItemDataRole.UserRole)
                    for row in range(widget.count())
                    if widget.item(row).checkState() == Qt.CheckState.Checked
                ]
            elif isinstance(widget, QTreeWidget):
                items = [widget.topLevelItem(row) for row in range(widget.topLevelItemCount())]
                result[name] = [
                    item.data(0, Qt.ItemDataRole.UserRole)
                    for item in items
                    if item.checkState(0) == Qt.CheckState.Checked
                ]
        return result

    def submit(self) -> None:
        """Clear old errors, lock the form, and hand the values over."""
        self.clear_errors()
        self.submit_button.setEnabled(False)
        values = self.values()
        self.submitted.emit(values)
        self.on_submit(values)

    def clear_errors(self) -> None:
        """Hide every error line."""
        for label in [*self.field_errors.values(), self.general_error]:
            label.clear()
            label.hide()

    def show_error(self, error: ApiError) -> None:
        """Field errors under their fields, the rest on the general line; the form unlocks."""
        self.submit_button.setEnabled(True)
        unplaced = []
        for field_name, message in error.field_errors().items():
            label = self.field_errors.get(field_name)
            if label is None:
                unplaced.append(f"{field_name}: {message}")
                continue
            label.setText(f"{self.fields[field_name].label} {message}.")
            label.show()
        if unplaced or not error.errors:
            self.general_error.setText(" ".join([error.detail, *unplaced]))
            self.general_error.show()

    def succeed(self) -> None:
        """Close the dialog as accepted."""
        self.accept()
