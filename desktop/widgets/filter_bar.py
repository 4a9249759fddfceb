"""A filter line: Return applies it; a syntax error is shown at its position in the text."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

EXCERPT = 24  # characters shown either side of an error's position


def marked_excerpt(text: str, position: int) -> str:
    """Rich text of text around position, the character there marked (a caret when the text ended early)."""
    position = max(0, min(position, len(text)))
    start = max(0, position - EXCERPT)
    before = html.escape(text[start:position])
    at = html.escape(text[position : position + 1]) or "&#8248;"  # ‸ where more was expected
    after = html.escape(text[position + 1 : position + 1 + EXCERPT])
    lead = "…" if start else ""
    tail = "…" if position + 1 + EXCERPT < len(text) else ""
    return f'<code>{lead}{before}<span style="background:#c4314b;color:white">{at}</span>{after}{tail}</code>'


class FilterBar(QWidget):
    """The filter text, Apply and Clear, and beneath them the error of the last filter the server refused."""

    applied = Signal(str)

    def __init__(self, placeholder: str = 'e.g. status = "open" && score > 50', parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setObjectName("filter")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.edit.returnPressed.connect(self.apply)
        self.apply_button = QPushButton("Filter")
        self.apply_button.clicked.connect(self.apply)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.error_position: int | None = None

    def text(self) -> str:
        """The filter as typed."""
        return self.edit.text().strip()

    def apply(self) -> None:
        """Ask for the rows this filter matches."""
        self.clear_error()
        self.applied.emit(self.text())

    def show_error(self, message: str, position: int | None) -> None:
        """The server's reason, with the text marked at position (and the cursor put there)."""
        self.error_position = position
        text = self.edit.text()
        where = ""
        if position is not None:
            # The server counted in the text it was sent, which is the stripped one.
            position += len(text) - len(text.lstrip())
            where = f"<br>{marked_excerpt(text, position)}"
            self.edit.setFocus()
            self.edit.setSelection(position, 1) if position < len(text) else self.edit.setCursorPosition(position)
        self.error.setText(f"{html.escape(message)}{where}")
        self.error.show()

    def clear_error(self) -> None:
        """Hide the error."""
        self.error_position = None
        self.error.clear()
        self.error.hide()
