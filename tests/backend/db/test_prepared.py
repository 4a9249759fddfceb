"""Prepared writes: the same rows, types and errors as session.execute, from SQL compiled once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    literal,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.prepared import run_prepared
from backend.db.types import PortableJson, UtcDateTime

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True),
    Column("seen", UtcDateTime()),
    Column("flag", Boolean),
    Column("extra", PortableJson()),
    Column("origin", String),
)


def test_rows_come_back_as_a_session_would_have_written_them(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    moment = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    rows = [
        {"id": n, "name": f"n{n}", "seen": moment, "flag": n % 2 == 0, "extra": {"n": [n, "123"]}} for n in range(3)
    ]
    with Session(engine) as session, session.begin():
        run_prepared(session, insert(things), rows)  # many rows: one executemany
        run_prepared(session, insert(things), [{**rows[0], "id": 9, "name": "single", "extra": "123"}])
        # A value the statement binds itself (a literal) is sent too.
        run_prepared(session, insert(things).values(origin=literal("here")), [{"id": 10, "name": "lit"}])
    with Session(engine) as session:
        got = session.execute(select(things).order_by(things.c.id)).mappings().all()
    assert [dict(row) for row in got[:3]] == [{**row, "origin": None} for row in rows]
    assert got[3]["extra"] == "123"  # JSON text stays text
    assert got[4]["origin"] == "here"


def test_equal_values_of_other_types_and_repeated_moments_keep_their_own_form(tmp_path: Path) -> None:
    """Each distinct value is processed once per run: by type as well, since True == 1 == 1.0."""
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    first, second = datetime(2026, 5, 1, 9, 30, tzinfo=UTC), datetime(2026, 5, 1, 9, 31, tzinfo=UTC)
    extras = [True, 1, 1.0, "1", None, [1], {"a": 1}, False, 0]
    rows = [
        {"id": n, "name": f"n{n}", "seen": (first, second)[n % 2], "extra": extra} for n, extra in enumerate(extras)
    ]
    with Session(engine) as session, session.begin():
        run_prepared(session, insert(things), rows)
    with Session(engine) as session:
        got = session.execute(select(things.c.seen, things.c.extra).order_by(things.c.id)).all()
    assert [seen for seen, _ in got] == [row["seen"] for row in rows]
    assert [(type(extra), extra) for _, extra in got] == [(type(extra), extra) for extra in extras]


def test_a_constraint_failure_is_sqlalchemys_integrity_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", hide_parameters=True)
    metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        run_prepared(session, insert(things), [{"id": 1, "name": "same"}])
        with pytest.raises(IntegrityError) as raised:
            run_prepared(session, insert(things), [{"id": 2, "name": "same"}, {"id": 3, "name": "other"}])
        assert "UNIQUE" in str(raised.value.orig)
