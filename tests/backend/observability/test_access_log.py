"""The access log's own renderers write exactly what structlog's processors would."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from hypothesis import given
from hypothesis import strategies as st

from backend.observability.access_log import _event, access_console_line, access_json_line
from backend.observability.logging import render_console_line

_LINES = st.tuples(
    st.floats(min_value=0, max_value=4e9),
    st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    st.text(max_size=40),  # paths as a client may send them: quotes, spaces, any character
    st.integers(min_value=100, max_value=599),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.sampled_from(["127.0.0.1", "::1", "?"]),
    st.from_regex(r"[A-Za-z0-9._:-]{1,128}", fullmatch=True),
)


@given(_LINES)
def test_access_lines_render_as_the_processors_would(line: tuple) -> None:  # type: ignore[type-arg]
    event = _event(*line)
    assert access_console_line(event) == render_console_line(None, "info", dict(event))
    assert access_json_line(event) == structlog.processors.JSONRenderer()(None, "info", dict(event))


@given(st.floats(min_value=0, max_value=4e9))
def test_the_timestamp_is_the_moment_in_iso_utc(at: float) -> None:
    stamp = _event(at, "GET", "/", 200, 1.0, "?", "id")["timestamp"]
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(parsed.timestamp() - at) < 1e-5 * max(1.0, at / 1e9)
