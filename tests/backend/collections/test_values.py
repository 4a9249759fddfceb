"""Every field type's checks: what is kept, what is refused and why, and how it is shown."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.collections.definition import Constraints, FieldDef, FieldType
from backend.collections.values import check_value, is_blank, to_api


def _field(kind: FieldType, **extra: Any) -> FieldDef:
    return FieldDef("fabcdefghij", "f", kind, **extra)


@pytest.mark.parametrize(
    ("spec", "value", "stored"),
    [
        (_field(FieldType.TEXT), "héllo", "héllo"),
        (_field(FieldType.TEXT, constraints=Constraints(min_length=2, max_length=3)), "abc", "abc"),
        (_field(FieldType.TEXT, constraints=Constraints(pattern="^[A-Z]{2}-[0-9]+$")), "AB-12", "AB-12"),
        (_field(FieldType.INTEGER, constraints=Constraints(min=0, max=10)), 10, 10),
        (_field(FieldType.INTEGER), 2**63 - 1, 2**63 - 1),
        (_field(FieldType.NUMBER), 3, 3.0),
        (_field(FieldType.NUMBER, constraints=Constraints(min=-1.5)), -1.5, -1.5),
        (_field(FieldType.BOOLEAN), False, False),
        (_field(FieldType.DATE, constraints=Constraints(min="2020-01-01")), "2026-05-01", date(2026, 5, 1)),
        (_field(FieldType.DATETIME), "2026-05-01T11:30:00+02:00", datetime(2026, 5, 1, 9, 30, tzinfo=UTC)),
        (_field(FieldType.EMAIL), "ana@example.org", "ana@example.org"),
        (_field(FieldType.URL), "https://example.org/a?b=c", "https://example.org/a?b=c"),
        (_field(FieldType.SELECT, options=("open", "closed")), "open", "open"),
        (_field(FieldType.SELECT, options=("a", "b", "c"), multiple=True), ["c", "a"], ["c", "a"]),
        (_field(FieldType.JSON), {"a": [1, "2"]}, {"a": [1, "2"]}),
        (_field(FieldType.JSON), "123", "123"),
        (
            _field(FieldType.RELATION),
            "0190F1E2-0000-7000-8000-000000000001",
            "0190f1e2-0000-7000-8000-000000000001",
        ),
        (_field(FieldType.TEXT, required=True), None, None),  # null passes here: required is the service's rule
    ],
)
def test_good_values_are_kept_in_their_stored_form(spec: FieldDef, value: Any, stored: Any) -> None:
    assert check_value(spec, value) == (stored, None)


@pytest.mark.parametrize(
    ("spec", "value", "reason"),
    [
        (_field(FieldType.TEXT), 5, "must be text"),
        (_field(FieldType.TEXT), "a\x00b", "NUL"),
        (_field(FieldType.TEXT, constraints=Constraints(min_length=2)), "a", "at least 2 characters"),
        (_field(FieldType.TEXT, constraints=Constraints(max_length=2)), "abc", "at most 2 characters"),
        (_field(FieldType.TEXT, constraints=Constraints(pattern="^[0-9]+$")), "12a", "pattern"),
        (_field(FieldType.INTEGER), 1.5, "whole number"),
        (_field(FieldType.INTEGER), True, "whole number"),
        (_field(FieldType.INTEGER), "1", "whole number"),
        (_field(FieldType.INTEGER), 2**63, "64 bits"),
        (_field(FieldType.INTEGER, constraints=Constraints(max=10)), 11, "at most 10"),
        (_field(FieldType.NUMBER), "1.0", "must be a number"),
        (_field(FieldType.NUMBER), float("nan"), "finite"),
        (_field(FieldType.NUMBER, constraints=Constraints(min=0)), -0.1, "at least 0"),
        (_field(FieldType.BOOLEAN), "true", "true or false"),
        (_field(FieldType.DATE), "2026-02-30", "YYYY-MM-DD"),
        (_field(FieldType.DATE), "2026-5-1", "YYYY-MM-DD"),
        (_field(FieldType.DATE, constraints=Constraints(max="2025-12-31")), "2026-01-01", "at most 2025-12-31"),
        (_field(FieldType.DATETIME), "2026-05-01T09:30:00", "time zone"),
        (_field(FieldType.DATETIME), "9999-12-31T23:59:59-14:00", "time zone"),
        (_field(FieldType.EMAIL), "not an email", "email address"),
        (_field(FieldType.EMAIL), "a@b", "email address"),
        (_field(FieldType.URL), "ftp://example.org", "http or https"),
        (_field(FieldType.URL), "https:///nohost", "http or https"),
        (_field(FieldType.SELECT, options=("open",)), "Open", "one of: open"),
        (_field(FieldType.SELECT, options=("a", "b"), multiple=True), ["a", "x"], "x is not an option"),
        (_field(FieldType.SELECT, options=("a", "b"), multiple=True), ["a", "a"], "twice"),
        (_field(FieldType.SELECT, options=("a",), multiple=True), "a", "list of options"),
        (_field(FieldType.RELATION), "not-an-id", "id of a record"),
    ],
)
def test_bad_values_are_refused_with_a_reason(spec: FieldDef, value: Any, reason: str) -> None:
    stored, problem = check_value(spec, value)
    assert stored is None
    assert problem is not None
    assert reason in problem


def test_a_whole_bound_reads_as_people_write_it() -> None:
    assert check_value(_field(FieldType.NUMBER, constraints=Constraints(max=100.0)), 100.5)[1] == "must be at most 100"
    assert check_value(_field(FieldType.NUMBER, constraints=Constraints(min=0.5)), 0.25)[1] == "must be at least 0.5"


def test_blank_means_null_empty_text_or_no_options() -> None:
    assert is_blank(_field(FieldType.TEXT), "")
    assert is_blank(_field(FieldType.INTEGER), None)
    assert is_blank(_field(FieldType.SELECT, options=("a",), multiple=True), [])
    assert not is_blank(_field(FieldType.JSON), "")
    assert not is_blank(_field(FieldType.BOOLEAN), False)


def test_dates_and_times_are_shown_as_iso_text_in_utc() -> None:
    moment = datetime(2026, 5, 1, 9, 30, 1, 5000, tzinfo=UTC)
    assert to_api(_field(FieldType.DATETIME), moment) == "2026-05-01T09:30:01.005000Z"
    assert to_api(_field(FieldType.DATE), date(2026, 5, 1)) == "2026-05-01"
    assert to_api(_field(FieldType.INTEGER), 3) == 3
