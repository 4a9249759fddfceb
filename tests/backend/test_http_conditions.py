"""If-Match against a strong ETag (RFC 9110 §13.1.1)."""

from __future__ import annotations

import pytest

from backend.errors import PreconditionFailed
from backend.http_conditions import etag_of, matches, require_match


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, True),
        ('"r2"', True),
        ('"r1", "r2"', True),
        ("*", True),
        ('"r1"', False),
        ('W/"r2"', False),
        ("r2", False),
        ("", False),
    ],
)
def test_if_match_is_a_strong_comparison_with_a_list_or_star(header: str | None, expected: bool) -> None:
    assert matches(header, "r2") is expected


def test_a_stale_if_match_is_a_412_carrying_the_current_etag() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        require_match('"r1"', "r2")
    assert caught.value.status == 412
    assert caught.value.headers == {"ETag": etag_of("r2")} == {"ETag": '"r2"'}
