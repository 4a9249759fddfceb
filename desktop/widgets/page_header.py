"""A page's title, subtitle, action buttons and an error banner."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def subtitle_html(text: str) -> str:
    """Plain text with `commands` in backticks, as rich text with the commands in a code face."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


class PageHeader(QWidget):
    """Title and subtitle on the left, buttons on the right, a banner beneath for errors."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        self.set_subtitle(subtitle)
        self.subtitle.setWordWrap(True)
        titles = QVBoxLayout()
        titles.addWidget(heading)
        titles.addWidget(self.subtitle)
        self.buttons = QHBoxLayout()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addLayout(titles, 1)
        top.addLayout(self.buttons)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.banner)

    def set_subtitle(self, text: str) -> None:
        """The line under the title (backticks mark commands)."""
        self.subtitle.setText(subtitle_html(text))

    def add_button(self, text: str, object_name: str = "") -> QPushButton:
        """A button at the right of the header."""
        button = QPushButton(text)
        if object_name:
            button.setObjectName(object_name)
        self.buttons.addWidget(button)
        return button

    def show_error(self, message: str) -> None:
        """A problem the page could not place next to a field."""
        self.banner.setText(message)
        self.banner.show()

    def clear_error(self) -> None:
        """Hide the banner."""
        self.banner.hide()
