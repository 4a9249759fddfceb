"""Schema writes hold the one writer with foreign keys off, check them before COMMIT, and turn them back on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from backend.datadir import DataDir
from backend.db.engine import Database
from backend.db.migrate import upgrade_database
from backend.db.schema_writes import schema_write
from backend.db.sqlite import ForeignKeyViolation
from backend.db.sqlite_database import SqliteDatabase

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _user_roles(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(text("SELECT count(*) FROM user_roles"))).scalar_one())


async def test_foreign_keys_are_off_inside_and_on_after(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    db = SqliteDatabase(paths.database)
    try:
        async with schema_write(db) as session:
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 0
        async with db.write() as session:
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await db.close()


async def test_a_dangling_reference_is_caught_before_commit_and_rolled_back(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    db = SqliteDatabase(paths.database)
    try:
        with pytest.raises(ForeignKeyViolation):
            async with schema_write(db) as session:
                # Enforcement is off, so this insert passes; the check before COMMIT must refuse it.
                await session.execute(text("INSERT INTO user_roles (user_id, role_name) VALUES ('nobody', 'nothing')"))
        assert await _user_roles(db) == 0
        async with db.write() as session:
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await db.close()
