"""Fitting a table's columns to its width: contents first, then shrink the widest or share out the spare room."""

from __future__ import annotations

from PySide6.QtWidgets import QTableView

MIN_COLUMN = 48
KEPT_WHOLE = 160  # columns this narrow (times, states, names) keep their contents while wider ones can give way
FLOOR = 80  # ...as long as the wider ones keep at least this much each


def fitted_widths(wanted: list[int], available: int, kept: frozenset[int] = frozenset()) -> list[int]:
    """Widths that sum to at most available: the widest columns give way first; spare room goes by content width.

    Columns in kept (times, say: a cut-off time reads as a different time) give way only if nothing else can.
    """
    total = sum(wanted)
    if not wanted or available <= 0:
        return wanted
    if total <= available:
        # Shared in proportion to what each column shows, so no single column (the last one, say) takes it all.
        spare = available - total
        return [width + spare * width // total for width in wanted]
    wide = [index for index, width in enumerate(wanted) if width > KEPT_WHOLE and index not in kept]
    for shrinking, floor in ((wide, FLOOR), ([index for index in range(len(wanted)) if index not in kept], MIN_COLUMN)):
        room = available - sum(width for index, width in enumerate(wanted) if index not in shrinking)
        if shrinking and room // len(shrinking) >= floor:
            # A cut-off time or state reads badly; long free text (details, scopes) loses least by an ellipsis.
            shrunk = iter(capped([wanted[index] for index in shrinking], room))
            return [next(shrunk) if index in shrinking else width for index, width in enumerate(wanted)]
    return capped(wanted, available)


def capped(wanted: list[int], available: int) -> list[int]:
    """Every column capped at the one width at which they all fit (never below a minimum)."""
    # Cap every column at the same width, the highest cap at which they all fit (but never below a minimum).
    cap = available
    remaining, room = sorted(wanted), available
    for count, width in enumerate(remaining):
        share = room // (len(remaining) - count)
        if width > share:
            cap = share
            break
        room -= width
    return [max(min(width, cap), MIN_COLUMN) for width in wanted]


def fit_columns(table: QTableView, kept: frozenset[int] = frozenset()) -> None:
    """Size each column to its contents, then fit them all into the visible width (no horizontal scrolling)."""
    header = table.horizontalHeader()
    model = table.model()
    if model is None or model.columnCount() == 0:
        return
    columns = range(model.columnCount())
    wanted = [max(table.sizeHintForColumn(column), header.sectionSizeHint(column)) for column in columns]
    for column, width in zip(columns, fitted_widths(wanted, table.viewport().width(), kept), strict=True):
        header.resizeSection(column, width)
