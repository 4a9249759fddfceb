"""The executable under test: OUTPOST_EXE, or dist/outpost as build.spec makes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def exe() -> Path:
    """The built one-file executable; this suite is run after the build, so its absence is a failure."""
    path = Path(os.environ.get("OUTPOST_EXE") or ROOT / "dist" / "outpost")
    if not path.is_file():
        pytest.fail(f"no executable at {path}: build it first with `pyinstaller --noconfirm build.spec`")
    return path
