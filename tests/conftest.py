"""Fixtures shared by every test: a fresh data directory, settings, an in-process app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.settings import Settings, load_settings
from backend.startup import prepare_data_dir

# Offscreen Qt for every GUI test; an exported but empty value would abort Qt.
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

TEST_HOST = "testserver.local"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory that does not exist yet."""
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Settings on the fresh data dir, answering the test clients' Host names."""
    return load_settings({"data_dir": data_dir, "allowed_hosts": f"{TEST_HOST},testserver"}, {})


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The real app over a migrated database in the fresh data dir."""
    return create_app(prepare_data_dir(settings).settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """Litestar's test client with the app's lifespan running."""
    with TestClient(app, base_url=f"http://{TEST_HOST}") as test_client:
        yield test_client
