"""GUI fixtures: a console wired to a real backend process on a temporary data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Console, application, build_console


@pytest.fixture
def console(qtbot: QtBot, tmp_path: Path) -> Iterator[Console]:
    """The whole console on a fresh data dir; its backend is started by the test."""
    application()
    built = build_console(tmp_path / "data")
    qtbot.addWidget(built.window)
    yield built
    built.window.close()  # stops the child backend and abandons requests in flight
