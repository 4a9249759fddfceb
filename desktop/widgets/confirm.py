"""A non-blocking confirmation for a destructive action: the action runs only on its own button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget, title: str, question: str, action_label: str, action: Callable[[], object]) -> QMessageBox:
    """Open (not exec: the event loop keeps running) a Yes/Cancel box; action() runs if Yes is clicked."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    yes = box.button(QMessageBox.StandardButton.Yes)
    yes.setText(action_label)
    box.buttonClicked.connect(lambda button: button is yes and action())
    box.open()
    return box
