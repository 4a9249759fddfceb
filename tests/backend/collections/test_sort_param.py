"""?sort=: keys in order with their direction; unknown, empty and repeated keys refused at their position."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.collections.sort_param import FilterError, parse_sort

SORTABLE = frozenset({"id", "name", "created_at", "count"})


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("name", [("name", False)]),
        ("-name", [("name", True)]),
        ("+name", [("name", False)]),
        ("name,-created_at", [("name", False), ("created_at", True)]),
        (" name , -created_at ,id", [("name", False), ("created_at", True), ("id", False)]),
        ("-count,-id", [("count", True), ("id", True)]),
        ("", []),
        ("   ", []),
    ],
)
def test_keys_in_order(text: str, keys: list[tuple[str, bool]]) -> None:
    assert parse_sort(text, SORTABLE) == keys


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("nope", 0, "unknown field 'nope'"),
        ("name,-nope", 5, "unknown field 'nope'"),
        ("name, Name", 6, "unknown field 'Name'"),
        ("name,,id", 5, "expected a field name"),
        ("name,", 5, "expected a field name"),
        ("-", 0, "expected a field name"),
        ("name,  -", 7, "expected a field name"),
        ("name,-name", 5, "name is named twice"),
        ("--name", 0, "unknown field '-name'"),
        ("- name", 0, "unknown field ' name'"),
        ("name desc", 0, "unknown field 'name desc'"),
        ("x" * 5000, 4096, "longer than 4096"),
    ],
)
def test_refusals_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_sort(text, SORTABLE)
    error = caught.value
    assert (error.field, error.position) == ("sort", position)
    assert words in error.message
    assert error.errors[0].field == "sort"
    assert error.extra == {"position": position}


def test_only_the_sortable_names_are_accepted() -> None:
    assert parse_sort("data", {"data"}) == [("data", False)]
    with pytest.raises(FilterError):
        parse_sort("data", set())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_gives_keys_or_filter_error(text: str) -> None:
    try:
        keys = parse_sort(text, SORTABLE)
    except FilterError as error:
        keys = None
        position = error.position
    else:
        position = None
    if keys is None:
        assert position is not None
        assert 0 <= position <= len(text)
    else:
        names = [name for name, _ in keys]
        assert set(names) <= SORTABLE
        assert len(names) == len(set(names))
