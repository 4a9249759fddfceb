"""Fitting columns into a table's width, without a view."""

from __future__ import annotations

from desktop.widgets.column_fit import MIN_COLUMN, fitted_widths


def test_spare_room_is_shared_by_content_width_not_given_to_the_last_column() -> None:
    widths = fitted_widths([200, 100, 100], 800)
    assert sum(widths) <= 800
    assert widths[0] > widths[1] == widths[2]
    assert widths[2] < 400  # the last column does not take all the spare


def test_too_wide_columns_shrink_the_widest_first_to_fit() -> None:
    widths = fitted_widths([600, 100, 80, 300], 700)
    assert sum(widths) <= 700
    assert widths[1:3] == [100, 80]  # narrow columns keep their contents
    assert widths[0] == widths[3]


def test_columns_never_shrink_below_a_minimum() -> None:
    assert min(fitted_widths([500, 500, 500], 60)) == MIN_COLUMN


def test_short_columns_such_as_times_keep_their_contents_while_long_text_gives_way() -> None:
    widths = fitted_widths([140, 150, 140, 110, 90, 220, 600], 820)
    assert sum(widths) <= 820
    assert widths[:5] == [140, 150, 140, 110, 90]
    assert widths[5] == widths[6] >= 80


def test_kept_columns_give_way_only_when_nothing_else_can() -> None:
    # No column is wide, so all would be capped alike, the times (140) with them: the others give way instead.
    widths = fitted_widths([100, 98, 95, 150, 80, 113, 97, 150], 830, kept=frozenset({5, 6, 7}))
    assert sum(widths) <= 830
    assert widths[5:] == [113, 97, 150]
    assert fitted_widths([100, 150], 60, kept=frozenset({1})) == [MIN_COLUMN, MIN_COLUMN]  # nothing else can
