"""A migrated database for the sync tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.datadir import DataDir
from backend.db.migrate import upgrade_database


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    """outpost.db at the head revision, in a fresh data dir."""
    paths = DataDir(tmp_path / "data").ensure()
    upgrade_database(paths)
    return paths.database
