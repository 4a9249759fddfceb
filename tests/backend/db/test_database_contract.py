"""What every Database promises, on each engine: SQLite in a data dir and PostgreSQL from a URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.factory import open_database
from backend.db.group_commit import touch
from backend.db.point_reads import PointQuery
from backend.db.types import utc_now
from backend.settings import Settings
from backend.system.models import SavedSetting

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def db(engine_settings: Settings) -> AsyncIterator[Database]:
    database = open_database(engine_settings)
    try:
        yield database
    finally:
        await database.close()


def save(key: str, value: str, *, then_fail: bool = False) -> object:
    def work(session: Session) -> str:
        session.add(SavedSetting(key=key, value=value, updated_at=utc_now()))
        session.flush()
        touch(session, f"tag-{key}")
        if then_fail:
            raise RuntimeError("the work's own failure")
        return key

    return work


def saved(connection: Connection) -> dict[str, str]:
    return {key: value for key, value in connection.execute(select(SavedSetting.key, SavedSetting.value))}


async def test_a_write_is_read_back_by_every_kind_of_read(db: Database) -> None:
    told: list[frozenset[str]] = []
    db.after_commit.append(told.append)
    assert await db.write_in_thread(save("a", '"one"')) == "a"
    assert told == [frozenset({"tag-a"})], "the listeners hear of the commit before the writer is answered"
    assert await db.read_in_thread(saved) == {"a": '"one"'}
    async with db.read() as session:
        assert (await session.execute(select(SavedSetting.value))).scalar_one() == '"one"'
    point = PointQuery.compile(select(SavedSetting.value).where(SavedSetting.key == text(":key")), db.dialect)
    assert await point.rows(db, key="a") == [('"one"',)]
    assert await asyncio.to_thread(db.read_here, saved) == {"a": '"one"'}, "a worker thread reads too"


async def test_a_write_that_fails_leaves_nothing_and_raises_its_own_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match="own failure"):
        await db.write_in_thread(save("b", '"two"', then_fail=True))
    await db.write_in_thread(save("c", '"three"'))
    with pytest.raises(IntegrityError):
        await db.write_in_thread(save("c", '"again"'))
    assert await db.read_in_thread(saved) == {"c": '"three"'}


async def test_parallel_writers_all_land(db: Database) -> None:
    keys = [f"k{i}" for i in range(40)]
    assert sorted(await asyncio.gather(*(db.write_in_thread(save(key, "1")) for key in keys))) == sorted(keys)
    async with db.write() as session:
        session.add(SavedSetting(key="session", value="2", updated_at=utc_now()))
    assert set(await db.read_in_thread(saved)) == {*keys, "session"}


async def test_reads_refuse_to_write(db: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)read.?only|query_only"):
        await db.read_in_thread(lambda connection: connection.execute(text("DELETE FROM saved_settings")))


async def test_it_says_where_it_is_and_how_big_without_a_password(db: Database, engine_settings: Settings) -> None:
    assert await db.size_bytes() > 0
    where = db.location()
    assert db.engine_name in ("sqlite", "postgresql")
    if engine_settings.database_url:
        assert where.startswith("postgresql+asyncpg://")
        assert where.split("/")[-1] == engine_settings.database_url.split("/")[-1]
    else:
        assert where == str(engine_settings.paths.database)
