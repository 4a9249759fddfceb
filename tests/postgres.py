"""Server mode's services for tests: a fresh PostgreSQL database per test, and the machine's Redis.

Where no server answers, PostgreSQL tests skip saying why, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Engine, create_engine

from backend.db.factory import migrate
from backend.db.own_loop import run_in_own_loop
from backend.settings import Settings

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """The maintenance database tests create theirs from."""
    return os.environ.get("OUTPOST_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(admin_url(), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def require_postgres() -> None:
    """Skip (fail under CI=true) unless the test PostgreSQL server answers."""
    try:
        run_in_own_loop(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"no PostgreSQL at {admin_url().split('@')[-1]} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs and starts one")
        pytest.skip(f"{reason}; set OUTPOST_TEST_POSTGRES_URL to a server tests may create databases on")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The postgresql+asyncpg URL of a new, empty database, dropped afterwards."""
    require_postgres()
    name = f"outpost_test_{secrets.token_hex(6)}"
    run_in_own_loop(_admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url().rpartition("/")
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    finally:
        run_in_own_loop(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The Redis tests share (every deployment keeps its own keys: see backend/redis_connection.py)."""
    return os.environ.get("OUTPOST_TEST_REDIS_URL") or REDIS_URL


def require_redis() -> str:
    """The test Redis URL; skip (fail under CI=true) unless it answers."""
    import redis

    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"no Redis at {redis_url()} ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs and starts one")
        pytest.skip(f"{reason}; set OUTPOST_TEST_REDIS_URL")
    return redis_url()


@contextmanager
def copied_postgres_database(template_url: str) -> Iterator[str]:
    """The URL of a new database copied from the one template_url names (none may be connected to it), dropped
    afterwards."""
    template = template_url.rsplit("/", 1)[1]
    name = f"outpost_test_{secrets.token_hex(6)}"
    run_in_own_loop(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield f"{template_url.rsplit('/', 1)[0]}/{name}"
    finally:
        run_in_own_loop(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


ENGINES = ("sqlite", "postgresql")


@contextmanager
def migrated_settings(engine: str, data_dir: Path) -> Iterator[Settings]:
    """Settings of a migrated, empty database on engine ("sqlite" in data_dir, or a fresh PostgreSQL one)."""
    if engine == "sqlite":
        settings = Settings(data_dir=data_dir, sqlite_synchronous="NORMAL")  # fsync is not under test
        settings.paths.ensure()
        migrate(settings)
        yield settings
        return
    with fresh_postgres_database() as url:
        settings = Settings(data_dir=data_dir, database_url=url)
        settings.paths.ensure()
        migrate(settings)
        yield settings


def plain_engine(settings: Settings) -> Engine:
    """A synchronous SQLAlchemy engine on the settings' database, for tests to look at tables directly."""
    if settings.database_url:
        return create_engine(settings.database_url.replace("+asyncpg", "+psycopg", 1))
    return create_engine(f"sqlite:///{settings.paths.database}")
