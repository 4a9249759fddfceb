"""A non-blocking confirmation for a destructive action: the action runs only on its own, red, button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

DESTRUCTIVE = "destructive"  # the object name the stylesheet paints red


def mark_destructive(button: QPushButton) -> None:
    """Style button as destructive, and keep Return from ever pressing it (only a click or Space does)."""
    button.setObjectName(DESTRUCTIVE)
    button.setAutoDefault(False)
    button.setDefault(False)
    # A button a layout has measured is already polished: it takes the new name's style only when polished again.
    button.style().unpolish(button)
    button.style().polish(button)


def confirm(parent: QWidget, title: str, question: str, action_label: str, action: Callable[[], object]) -> QMessageBox:
    """Open (not exec: the event loop keeps running) an action/Cancel box; action() runs if its button is pressed.

    Cancel is the default and has the focus, so Return or Esc never destroys anything by accident.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, title, question, QMessageBox.StandardButton.NoButton, parent)
    destroy = box.addButton(action_label, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    mark_destructive(destroy)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.buttonClicked.connect(lambda button: button is destroy and action())
    box.open()
    cancel.setFocus()
    return box


def destructive_button(box: QMessageBox) -> QPushButton:
    """The button of a confirmation that carries the action out."""
    return next(b for b in box.findChildren(QPushButton) if b.objectName() == DESTRUCTIVE)
