"""A table view that scrolls by moving pixels: only the rows a scroll uncovers are painted again."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QTableView, QWidget


class BlitTableView(QTableView):
    """QTableView whose viewport paints its own background, so Qt may blit it on scroll.

    Under a style sheet the viewport's background is the style's, which makes the viewport non-opaque to
    Qt, and a non-opaque widget is repainted whole on every scroll step (all its cells, ~10 ms for a big
    table). Declared opaque, it is scrolled by copying pixels and painting the uncovered strip; the
    background the style no longer paints is filled here, under the cells.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        """The background under the cells (the area past the last row too), then the cells."""
        painter = QPainter(self.viewport())
        painter.fillRect(event.rect(), self.palette().brush(QPalette.ColorRole.Base))
        painter.end()
        super().paintEvent(event)
