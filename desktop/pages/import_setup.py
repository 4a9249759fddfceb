"""The choosing half of the import dialog: the file and its format, where each column goes, what a bad row does."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.models.import_file import (
    FILE_FILTER,
    FilePreview,
    guess_format,
    mapping_to_send,
    read_preview,
    shared_targets,
    unfilled_required,
)
from desktop.models.job_format import human_size
from desktop.pages.import_columns import NO_COLUMNS, ColumnMapping, PreviewTable

MODES = (  # as the API names them, their names, and what they do
    ("all_or_nothing", "All or nothing", "If any row is at fault, nothing is imported; the report lists each problem."),
    ("skip_invalid", "Skip invalid rows", "The valid rows are imported; the report lists the rows left out and why."),
)


def help_label(text: str) -> QLabel:
    """A line of explanation under an input."""
    label = QLabel(text)
    label.setObjectName("fieldHelp")
    label.setWordWrap(True)
    return label


class ImportSetup(QWidget):
    """What to import and how; `changed` whenever whether it can be sent may have changed."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: list[dict[str, Any]] | None = None  # None until the collection's schema is in
        self.path: Path | None = None
        self.preview = FilePreview()
        self.blocked = False  # the columns' choices cannot be sent as they are
        self.refusal = ""  # why the backend refused the last mapping sent, until a choice changes
        file_label = QLabel("File")
        file_label.setObjectName("fieldLabel")
        self.file_name = QLabel("No file chosen yet.")
        self.file_name.setObjectName("importFile")
        self.file_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setToolTip("A .csv, .jsonl or .ndjson file; only its first rows are read here")
        self.choose_button.clicked.connect(self.choose_file)
        file_label.setBuddy(self.choose_button)
        format_label = QLabel("Format")
        self.csv = QRadioButton("CSV")
        self.jsonl = QRadioButton("JSON Lines")
        format_label.setBuddy(self.csv)
        self.csv.setChecked(True)
        formats = QButtonGroup(self)
        for button in (self.csv, self.jsonl):
            formats.addButton(button)
        self.csv.toggled.connect(lambda _on: self.read())
        file_row = QHBoxLayout()
        for widget in (self.file_name, format_label, self.csv, self.jsonl, self.choose_button):
            file_row.addWidget(widget, 1 if widget is self.file_name else 0)
        self.file_problem = QLabel()
        self.file_problem.setObjectName("fieldError")
        self.file_problem.setWordWrap(True)
        self.file_notes = help_label("")
        self.mapping = ColumnMapping()
        self.mapping.changed.connect(self._choice_changed)
        self.preview_table = PreviewTable()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("importTabs")
        self.tabs.addTab(self.mapping, "Columns")
        self.tabs.addTab(self.preview_table, "First rows")
        self.mapping_error = QLabel()
        self.mapping_error.setObjectName("fieldError")
        self.mapping_error.setWordWrap(True)
        self.mapping_note = help_label("")
        mode_label = QLabel("If a row is at fault")
        mode_label.setObjectName("fieldLabel")
        modes = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        mode_grid = QGridLayout()
        mode_grid.setContentsMargins(0, 0, 0, 0)
        mode_grid.setHorizontalSpacing(12)
        for row, (mode, name, explanation) in enumerate(MODES):
            button = QRadioButton(name)
            modes.addButton(button)
            self.mode_buttons[mode] = button
            mode_grid.addWidget(button, row, 0)
            mode_grid.addWidget(help_label(explanation), row, 1)
        mode_grid.setColumnStretch(1, 1)
        self.mode_buttons["all_or_nothing"].setChecked(True)
        mode_label.setBuddy(self.mode_buttons["all_or_nothing"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(file_label)
        layout.addLayout(file_row)
        for widget in (self.file_problem, self.file_notes):
            widget.hide()
            layout.addWidget(widget)
        layout.addWidget(self.tabs, 1)
        for widget in (self.mapping_error, self.mapping_note):
            widget.hide()
            layout.addWidget(widget)
        layout.addWidget(mode_label)
        layout.addLayout(mode_grid)
        self.last_in_tab_order: QWidget | None = None  # what Tab reaches after the modes (the dialog's Import)

    def set_fields(self, fields: list[dict[str, Any]]) -> None:
        """The collection's fields have arrived (again): the columns' choices are made from them."""
        self.fields = fields
        self.read()

    def field_names(self) -> list[str]:
        """The names of the collection's fields."""
        return [str(f["name"]) for f in self.fields or []]

    def choose_file(self) -> None:
        """Ask for the file (Qt's open dialog) and read its head."""
        folder = str(self.path.parent) if self.path else ""
        folder = folder or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        chosen, _type = QFileDialog.getOpenFileName(self, "Choose the file to import", folder, FILE_FILTER)
        if chosen:
            self.open_file(Path(chosen))

    def open_file(self, path: Path) -> None:
        """Take this file, its format guessed from its name (the person can change it)."""
        self.path = path
        self.csv.blockSignals(True)
        (self.jsonl if guess_format(path) == "jsonl" else self.csv).setChecked(True)
        self.csv.blockSignals(False)
        self.read(keep_choices=False)

    def file_format(self) -> str:
        """The format chosen, as the API names it."""
        return "jsonl" if self.jsonl.isChecked() else "csv"

    def mode(self) -> str:
        """What a bad row does, as the API names it."""
        return next(mode for mode, button in self.mode_buttons.items() if button.isChecked())

    def mapping_to_send(self) -> dict[str, str] | None:
        """The mapping for the API (None: the default does what the choices say)."""
        return mapping_to_send(self.mapping.chosen(), self.field_names())

    def ready(self) -> bool:
        """Whether the file can be sent: it is readable, the schema is in, every column goes somewhere sensible."""
        return self.path is not None and self.fields is not None and self.preview.problem is None and not self.blocked

    def read(self, *, keep_choices: bool = True) -> None:
        """The file's first rows read again (its format may have changed, it may have been put right, the schema
        may have arrived); the choices made for its columns stay, where they still can."""
        if self.path is None:
            return
        try:
            size: int | None = self.path.stat().st_size
        except OSError:
            size = None
        self.file_name.setText(self.path.name + (f"  ·  {human_size(size)}" if size is not None else ""))
        self.file_name.setToolTip(str(self.path))
        self.preview = read_preview(self.path, self.file_format())
        self.file_problem.setText(self.preview.problem or "")
        self.file_problem.setVisible(bool(self.preview.problem))
        self.file_notes.setText(" ".join(self.preview.notes))
        self.file_notes.setVisible(bool(self.preview.notes))
        if self.fields is not None:
            kept = self.mapping.chosen() if keep_choices else None
            self.mapping.set_columns(self.preview, self.fields, kept, NO_COLUMNS)
            self.preview_table.show_rows(self.preview)
            self._chain_focus()
        self._mapping_changed()

    def show_refusal(self, text: str) -> None:
        """The backend refused the mapping: say why under the choices until one changes."""
        self.refusal = text
        self._mapping_changed()

    def _chain_focus(self) -> None:
        """Tab goes from the file to the column choices (made after everything else) and on to the mode."""
        # The tab bar, not the tab widget: Qt counts a compound widget's children in its place in the chain.
        chain: list[QWidget] = [self.csv, self.jsonl, self.choose_button, self.tabs.tabBar()]
        chain += [*self.mapping.combos.values(), self.preview_table, *self.mode_buttons.values()]
        chain += [self.last_in_tab_order] if self.last_in_tab_order else []
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)

    def _choice_changed(self) -> None:
        self.refusal = ""
        self._mapping_changed()

    def _mapping_changed(self) -> None:
        chosen = self.mapping.chosen() if self.fields is not None else {}
        self.preview_table.show_targets(chosen)
        errors = [
            f"{', '.join(columns)} all go into {target}: choose one column for it."
            for target, columns in shared_targets(chosen).items()
        ]
        if self.fields is not None and self.preview.columns and not any(chosen.values()):
            errors.append("No column goes into a field: choose where at least one goes.")
        self.blocked = bool(errors)
        shown = " ".join([*errors, self.refusal]).strip()
        self.mapping_error.setText(shown)
        self.mapping_error.setVisible(bool(shown))
        missing = unfilled_required(chosen, self.fields or []) if self.preview.columns else []
        note = ""
        if missing:
            them = "it" if len(missing) == 1 else "them"
            note = f"No column goes into {', '.join(missing)} (required): new records without {them} are refused."
        self.mapping_note.setText(note)
        self.mapping_note.setVisible(bool(note))
        self.changed.emit()
