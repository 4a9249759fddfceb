"""Fixtures shared by every test: a fresh data directory, settings, an in-process app."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.datadir import DataDir
from backend.observability.audit import Actor
from backend.settings import Settings, load_settings
from backend.startup import prepare_data_dir
from tests.postgres import ENGINES, migrated_settings

# Offscreen Qt for every GUI test; an exported but empty value would abort Qt.
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
# Every backend a test starts (in-process or a child, which inherits this) takes no scheduled backup at its
# first minute: a test that counts jobs or backups would otherwise race it. tests/backend/jobs/test_schedule.py
# covers the schedule itself.
os.environ.setdefault("OUTPOST_BACKUP_INTERVAL_HOURS", "0")

TEST_HOST = "testserver.local"
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "a long test passphrase 42"


def setup_token_header(data_dir: Path) -> dict[str, str]:
    """The X-Setup-Token header with the token a backend on data_dir wrote there (while no user exists)."""
    return {"X-Setup-Token": DataDir(data_dir).setup_token.read_text()}


def sign_in_first_admin(client: TestClient[Litestar]) -> dict[str, str]:
    """Create the first administrator and sign in; the Authorization header.

    Embedded through the setup API; in server mode (no /setup) on the database, as `outpost user create` does.
    """
    if client.app.state.settings.mode == "server":
        make = functools.partial(
            client.app.state.identity.users.create,
            Actor("system", None, "test"),
            email=ADMIN_EMAIL,
            display_name="Admin",
            password=ADMIN_PASSWORD,
            roles=["admin"],
        )
        client.blocking_portal.call(make)
        tokens = client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert tokens.status_code == 200, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    created = client.post(
        "/api/v1/setup",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers=setup_token_header(client.app.state.settings.data_dir),
    )
    assert created.status_code == 201, created.text
    tokens = client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory that does not exist yet."""
    return tmp_path / "data"


@pytest.fixture(params=ENGINES)
def engine_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a migrated, empty database on each engine (SQLite in the data dir, a fresh PostgreSQL one)."""
    with migrated_settings(request.param, tmp_path / "data") as engine_settings:
        yield engine_settings


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Settings on the fresh data dir, answering the test clients' Host names."""
    return load_settings(
        {"data_dir": data_dir, "allowed_hosts": f"{TEST_HOST},testserver", "backup_interval_hours": 0}, {}
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The real app over a migrated database in the fresh data dir."""
    return create_app(prepare_data_dir(settings).settings)


@pytest.fixture
def anonymous_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """Litestar's test client with the app's lifespan running, no credentials, no user yet."""
    with TestClient(app, base_url=f"http://{TEST_HOST}") as test_client:
        yield test_client


@pytest.fixture
def client(anonymous_client: TestClient[Litestar]) -> TestClient[Litestar]:
    """The test client signed in as the first administrator (tests of other concerns than access)."""
    anonymous_client.headers.update(sign_in_first_admin(anonymous_client))
    return anonymous_client
