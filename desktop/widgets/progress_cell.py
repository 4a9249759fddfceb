"""A table cell drawn as a progress bar with its percentage, for a column of 0-100 values."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

TRACK = QColor("#e3e9ef")
DEFAULT_CHUNK = QColor("#2b6cb0")
BAR_HEIGHT = 8
MARGIN = 8
TEXT_WIDTH = 44  # "100 %" beside the bar, so the number never sits on the bar's colour
CELL_WIDTH = 100  # a bar of 40 px reads at a glance; the number beside it says exactly

Index = QModelIndex | QPersistentModelIndex


class ProgressCellDelegate(QStyledItemDelegate):
    """Paints value_role's number (0-100) as a bar in the cell's foreground colour, the percentage beside it.

    Drawn by hand, not by the style's progress bar: a stylesheet style draws those unevenly inside a view,
    and a plain track and fill read the same on every platform.
    """

    def __init__(self, value_role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value_role = value_role

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """The cell's background (selection, alternate rows), then the bar and the number."""
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        value = self.value(index)
        colour = index.data(Qt.ItemDataRole.ForegroundRole)
        chunk = QColor(colour) if isinstance(colour, QColor) else DEFAULT_CHUNK
        rect = option.rect.adjusted(MARGIN, 0, -MARGIN, 0)  # type: ignore[attr-defined]
        bar_width = max(0, rect.width() - TEXT_WIDTH)
        top = rect.top() + (rect.height() - BAR_HEIGHT) / 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TRACK)
        painter.drawRoundedRect(QRectF(rect.left(), top, bar_width, BAR_HEIGHT), 4, 4)
        if value > 0:
            painter.setBrush(chunk)
            painter.drawRoundedRect(
                QRectF(rect.left(), top, max(BAR_HEIGHT, bar_width * value / 100), BAR_HEIGHT), 4, 4
            )
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))  # type: ignore[attr-defined]
        text_rect = rect.adjusted(bar_width, 0, 0, 0)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{value} %")
        painter.restore()

    def value(self, index: Index) -> int:
        """The cell's number, held to 0-100."""
        raw = index.data(self.value_role)
        try:
            return max(0, min(100, int(raw)))
        except (TypeError, ValueError):
            return 0

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802 (Qt's name)
        """Wide enough for a bar one can read at a glance and "100 %" beside it."""
        return QSize(CELL_WIDTH, super().sizeHint(option, index).height())
