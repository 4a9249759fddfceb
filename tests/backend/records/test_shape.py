"""A record's shape: the point read turns what the driver gives into the record's JSON as the long way would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from backend.collections.definition import FieldDef, FieldType
from backend.collections.values import to_api
from backend.db.types import UtcDateTime
from backend.records.shape import _to_json_from_driver, moments_to_json, to_json_moment

_DIALECT = sqlite.dialect()
_IMPL = UtcDateTime().dialect_impl(_DIALECT)
_STORE = _IMPL.bind_processor(_DIALECT)
_LOAD = _IMPL.result_processor(_DIALECT, None)
_MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
) | st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.replace(microsecond=0))


@given(_MOMENTS)
def test_a_stored_moment_becomes_the_same_json_by_slicing(moment: datetime) -> None:
    spec = FieldDef("fabcdefghij", "seen", FieldType.DATETIME)
    raw = _STORE(UtcDateTime().process_bind_param(moment, _DIALECT))
    for to_json in (to_json_moment, lambda value: to_api(spec, value)):
        fast = _to_json_from_driver(_LOAD, to_json, moment=True)
        assert fast(raw) == to_json(_LOAD(raw))
        slow = _to_json_from_driver(_LOAD, to_json, moment=False)
        assert moments_to_json([raw, None], slow) == [to_json(_LOAD(raw)), None]  # an export's column at a time


def test_text_in_another_form_and_null_take_the_long_way() -> None:
    fast = _to_json_from_driver(_LOAD, to_json_moment, moment=True)
    assert fast(None) is None
    assert fast("2026-05-01 09:30:00") == "2026-05-01T09:30:00Z"  # no fraction: SQLite's text, not ours
    later = datetime(2026, 5, 1, 9, 30, tzinfo=UTC) + timedelta(microseconds=250_000)
    assert fast("2026-05-01 09:30:00.250000") == to_json_moment(later) == "2026-05-01T09:30:00.250000Z"
    column = [None, "2026-05-01 09:30:00", "2026-05-01 09:30:00.250000"]
    assert moments_to_json(column, fast) == [fast(raw) for raw in column]
