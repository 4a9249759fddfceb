"""The dashboard's number formatting."""

from __future__ import annotations

import pytest

from desktop.pages.dashboard import human_bytes, human_duration


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB")]
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (59, "59 s"), (61, "1 min 1 s"), (3725, "1 h 2 min"), (90000, "1 d 1 h")]
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
