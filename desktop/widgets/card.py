"""A titled value on a white card, as the dashboard shows its facts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class ValueCard(QFrame):
    """A small card: a caption above a value."""

    def __init__(self, caption: str, *, small: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(4)
        self.caption = QLabel(caption.upper())
        self.caption.setObjectName("cardLabel")
        self.value = QLabel("—")
        self.value.setObjectName("cardValueSmall" if small else "cardValue")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value.setWordWrap(True)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addStretch(1)

    def set_value(self, text: str, tooltip: str = "") -> None:
        """Show a new value."""
        self.value.setText(text)
        self.value.setToolTip(tooltip)
