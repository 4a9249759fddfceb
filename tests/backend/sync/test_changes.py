"""The change log: coalescing, frozen after push, one statement per append, nothing left by a failed write."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from backend.datadir import DataDir
from backend.db.engine import Database
from backend.db.migrate import upgrade_database
from backend.db.sqlite_database import SqliteDatabase
from backend.sync.changes import Change, ChangeLog, InvalidChange

T = TypeVar("T")
COLLECTION_ID = "0190f0f0-0000-7000-8000-000000000001"


class WallClock:
    """A wall clock the test sets by hand."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def with_log(path: Path, scenario: Callable[[Database, ChangeLog], Awaitable[T]], wall: WallClock | None = None) -> T:
    """Run scenario against a Database and an opened ChangeLog on path."""

    async def run() -> T:
        db = SqliteDatabase(path, synchronous="NORMAL")  # durability is not under test here: no fsync per commit
        try:
            log = await ChangeLog.open(db, wall=wall) if wall else await ChangeLog.open(db)
            return await scenario(db, log)
        finally:
            await db.close()

    return asyncio.run(run())


async def edit(
    db: Database, log: ChangeLog, record_id: str, op: str, fields: dict[str, Any], base_version: int = 0, **more: Any
) -> Change:
    """One local write of a record, in a transaction of its own."""
    async with db.write() as session:
        return await log.append(
            session,
            collection_id=COLLECTION_ID,
            collection=more.get("collection", "sites"),
            record_id=record_id,
            op=op,
            fields=fields,
            schema_version=more.get("schema_version", 1),
            base_version=base_version,
        )


def stored(path: Path) -> list[tuple[Any, ...]]:
    """Every change row as the file holds it: (seq, op, fields text, base_version, schema_version, hlc, pushed)."""
    with closing(sqlite3.connect(path)) as connection:
        query = "SELECT seq, op, fields, base_version, schema_version, hlc, pushed FROM changes ORDER BY seq"
        return connection.execute(query).fetchall()


def test_insert_then_updates_coalesce_into_the_insert(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> tuple[Change, Change, Change]:
        first = await edit(db, log, "r1", "insert", {"fa": 1, "fb": "x"})
        second = await edit(db, log, "r1", "update", {"fb": None, "fc": {"n": [1, True]}}, base_version=4)
        third = await edit(db, log, "r1", "update", {"fa": "1"}, base_version=5, schema_version=2, collection="places")
        return first, second, third

    first, second, third = with_log(database_path, scenario)
    assert (third.seq, third.change_id, third.op) == (first.seq, first.change_id, "insert")
    assert third.fields == {"fa": "1", "fb": None, "fc": {"n": [1, True]}}
    assert (third.base_version, third.schema_version, third.collection) == (0, 2, "places")
    assert first.hlc < second.hlc < third.hlc
    assert stored(database_path) == [
        (first.seq, "insert", '{"fa":"1","fb":null,"fc":{"n":[1,true]}}', 0, 2, third.hlc, 0)
    ]


def test_updates_coalesce_keeping_the_first_base_version(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> Change:
        await edit(db, log, "r1", "update", {"fa": 1}, base_version=7)
        return await edit(db, log, "r1", "update", {"fb": 2}, base_version=8)

    change = with_log(database_path, scenario)
    assert (change.op, change.fields, change.base_version) == ("update", {"fa": 1, "fb": 2}, 7)
    assert len(stored(database_path)) == 1


@pytest.mark.parametrize(("first_op", "base_version"), [("update", 7), ("insert", 0)])
def test_a_delete_swallows_the_unpushed_edit(database_path: Path, first_op: str, base_version: int) -> None:
    async def scenario(db: Database, log: ChangeLog) -> tuple[Change, Change, Change]:
        first = await edit(db, log, "r1", first_op, {"fa": 1}, base_version=base_version)
        deleted = await edit(db, log, "r1", "delete", {"fa": 2}, base_version=9)
        again = await edit(db, log, "r1", "delete", {}, base_version=9)  # a cascade reaching a deleted row
        return first, deleted, again

    first, deleted, again = with_log(database_path, scenario)
    # insert+delete stays in the log as a delete: the id is dead everywhere and the seq stays used.
    assert (deleted.seq, deleted.op, deleted.fields, deleted.base_version) == (first.seq, "delete", {}, base_version)
    assert (again.seq, again.op, again.fields) == (first.seq, "delete", {})
    assert len(stored(database_path)) == 1


@pytest.mark.parametrize(("first_op", "then_op"), [("delete", "update"), ("delete", "insert"), ("insert", "insert")])
def test_what_cannot_coalesce_is_refused_and_leaves_the_change_alone(
    database_path: Path, first_op: str, then_op: str
) -> None:
    async def scenario(db: Database, log: ChangeLog) -> Change:
        await edit(db, log, "r1", first_op, {"fa": 1})
        async with db.write() as session:
            with pytest.raises(InvalidChange, match="cannot follow"):
                await log.append(
                    session,
                    collection_id=COLLECTION_ID,
                    collection="sites",
                    record_id="r1",
                    op=then_op,
                    fields={"fa": 2},
                    schema_version=1,
                    base_version=0,
                )
            # The refusal failed one statement, not the transaction: the caller's session still writes.
            return await log.append(
                session,
                collection_id=COLLECTION_ID,
                collection="sites",
                record_id="r2",
                op="insert",
                fields={},
                schema_version=1,
                base_version=0,
            )

    with_log(database_path, scenario)
    rows = stored(database_path)
    assert [row[1] for row in rows] == [first_op, "insert"]
    assert rows[0][2] == ("{}" if first_op == "delete" else '{"fa":1}')


def test_bad_arguments_are_refused_before_any_sql(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> None:
        with pytest.raises(ValueError, match="op must be"):
            await edit(db, log, "r1", "upsert", {})
        with pytest.raises(ValueError, match="not a field id"):
            await edit(db, log, "r1", "update", {'fa"': 1})
        with pytest.raises(ValueError, match="Out of range float"):
            await edit(db, log, "r1", "update", {"fa": float("nan")})

    with_log(database_path, scenario)
    assert stored(database_path) == []


def test_a_pushed_change_is_frozen_and_the_next_edit_starts_a_new_one(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> dict[str, Any]:
        first = await edit(db, log, "r1", "insert", {"fa": 1})
        other = await edit(db, log, "r2", "insert", {"fa": 1})
        async with db.write() as session:
            frozen = await log.mark_pushed(session, [first.seq])
            frozen_again = await log.mark_pushed(session, [first.seq])
        later = await edit(db, log, "r1", "update", {"fa": 2}, base_version=1)
        async with db.read() as session:
            every = await log.pending(session)
            after_first = await log.pending(session, after_seq=first.seq)
            one = await log.pending(session, limit=1)
        return locals()

    seen = with_log(database_path, scenario)
    first, later = seen["first"], seen["later"]
    assert (seen["frozen"], seen["frozen_again"]) == (1, 0)
    assert later.seq > seen["other"].seq > first.seq
    assert later.change_id != first.change_id
    assert (later.op, later.fields, later.base_version) == ("update", {"fa": 2}, 1)
    # The pushed change is untouched, so a resend after a lost reply carries exactly what the first send did.
    assert seen["every"] == [
        Change(**{**first.__dict__, "pushed": True}),
        seen["other"],
        later,
    ]
    assert [change.seq for change in seen["after_first"]] == [seen["other"].seq, later.seq]
    assert seen["one"] == seen["every"][:1]


def test_seqs_are_never_reused_after_deletes(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> tuple[list[int], int, int, int]:
        seqs = [(await edit(db, log, f"r{n}", "insert", {})).seq for n in range(3)]
        async with db.write() as session:
            await session.execute(text("DELETE FROM changes"))
        async with db.read() as session:
            highest = await log.highest_seq(session)
        next_seq = (await edit(db, log, "r9", "insert", {})).seq
        async with db.read() as session:
            return seqs, highest, next_seq, await log.highest_seq(session)

    seqs, highest, next_seq, highest_after = with_log(database_path, scenario)
    assert seqs == sorted(seqs)
    assert highest == seqs[-1]
    assert next_seq > highest
    assert highest_after == next_seq


def test_a_failed_write_leaves_no_change_and_the_clock_still_moves_on(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> tuple[Change, Change, Change]:
        kept = await edit(db, log, "r1", "insert", {"fa": 1})
        failed: list[Change] = []

        async def failing_write() -> None:
            async with db.write() as session:
                failed.append(
                    await log.append(
                        session,
                        collection_id=COLLECTION_ID,
                        collection="sites",
                        record_id="r1",
                        op="update",
                        fields={"fa": 2},
                        schema_version=1,
                        base_version=0,
                    )
                )
                raise RuntimeError("the record's own write failed")

        with pytest.raises(RuntimeError, match="the record's own write failed"):
            await failing_write()
        after = await edit(db, log, "r2", "insert", {})
        return kept, failed[0], after

    kept, failed, after = with_log(database_path, scenario)
    assert failed.fields == {"fa": 2}  # it was appended before the failure...
    rows = stored(database_path)
    assert rows[0] == (kept.seq, "insert", '{"fa":1}', 0, 1, kept.hlc, 0)  # ...and rolled back with it
    assert [row[0] for row in rows] == [kept.seq, after.seq]
    assert kept.hlc < failed.hlc < after.hlc


def test_parallel_appends_through_the_one_writer(database_path: Path) -> None:
    tasks, per_task = 16, 12

    async def scenario(db: Database, log: ChangeLog) -> tuple[list[list[Change]], list[Change]]:
        async def writer(task: int) -> list[Change]:
            made = []
            for n in range(per_task):
                made.append(await edit(db, log, f"t{task}-r{n}", "insert", {"task": task, "n": n}))
                # Every task also edits one record all tasks share: these coalesce into one change.
                await edit(db, log, "shared", "update", {f"t{task}": n})
            return made

        per_writer = await asyncio.gather(*(writer(task) for task in range(tasks)))
        async with db.read() as session:
            return per_writer, await log.pending(session, limit=10_000)

    per_writer, pending = with_log(database_path, scenario)
    made = sorted((change for changes in per_writer for change in changes), key=lambda change: change.seq)
    assert len({change.seq for change in made}) == tasks * per_task
    assert all(a.seq < b.seq for changes in per_writer for a, b in itertools.pairwise(changes))
    # The clock ticks inside the writer's transaction, so seq order and clock order agree.
    assert [change.hlc for change in made] == sorted(change.hlc for change in made)
    shared = [change for change in pending if change.record_id == "shared"]
    assert len(shared) == 1
    assert shared[0].fields == {f"t{task}": per_task - 1 for task in range(tasks)}
    assert len(pending) == tasks * per_task + 1


def test_one_statement_per_append_whether_new_or_coalesced(database_path: Path) -> None:
    async def scenario(db: Database, log: ChangeLog) -> list[int]:
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.startswith(("BEGIN", "COMMIT")):
                statements.append(statement)

        counts = []
        event.listen(db.writer_engine.sync_engine, "before_cursor_execute", count)
        for op, fields in (("insert", {"fa": 1}), ("update", {"fb": 2, "fc": None}), ("delete", {})):
            async with db.write() as session:
                statements.clear()
                await log.append(
                    session,
                    collection_id=COLLECTION_ID,
                    collection="sites",
                    record_id="r1",
                    op=op,
                    fields=fields,
                    schema_version=1,
                    base_version=0,
                )
                counts.append(len(statements))
        return counts

    assert with_log(database_path, scenario) == [1, 1, 1]


def test_json_values_keep_their_types(database_path: Path) -> None:
    values = {"s": "1", "i": 1, "f": 1.5, "b": False, "n": None, "big": 2**70, "u": "naïve ☃", "l": [{"a": "b"}]}

    async def scenario(db: Database, log: ChangeLog) -> tuple[Change, list[Change]]:
        await edit(db, log, "r1", "insert", {})
        merged = await edit(db, log, "r1", "update", values)
        async with db.read() as session:
            return merged, await log.pending(session)

    merged, pending = with_log(database_path, scenario)
    assert merged.fields == values
    assert pending[0].fields == values
    assert [type(value) for value in pending[0].fields.values()] == [type(value) for value in values.values()]


# One step of a history: ("edit", record, op, fields, base_version) or ("push",).
edits = st.tuples(
    st.just("edit"),
    st.sampled_from(["r1", "r2", "r3"]),
    st.sampled_from(["insert", "update", "delete"]),
    st.dictionaries(st.sampled_from(["fa", "fb", "fc"]), st.none() | st.integers(-3, 3) | st.text(max_size=3)),
    st.integers(0, 9),
)
histories = st.lists(st.one_of(edits, st.just(("push",))), max_size=25)


def expected_log(history: list[tuple[Any, ...]]) -> list[tuple[str, str, dict[str, Any], int, bool]]:
    """What the documented rules say the log holds after history: (record, op, fields, base_version, pushed)."""
    log: list[list[Any]] = []
    unpushed: dict[str, list[Any]] = {}
    for step in history:
        if step[0] == "push":
            for change in unpushed.values():
                change[4] = True
            unpushed.clear()
            continue
        _, record, op, fields, base_version = step
        change = unpushed.get(record)
        if change is None:
            change = [record, op, {} if op == "delete" else dict(fields), base_version, False]
            unpushed[record] = change
            log.append(change)
        elif op == "insert" or (change[1] == "delete" and op != "delete"):
            continue  # refused: InvalidChange
        elif op == "delete":
            change[1], change[2] = "delete", {}
        else:
            change[2].update(fields)
    return [tuple(change) for change in log]  # type: ignore[misc]


@pytest.fixture(scope="module")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database file to copy for each generated history."""
    paths = DataDir(tmp_path_factory.mktemp("template") / "data").ensure()
    upgrade_database(paths)
    return paths.database


@settings(max_examples=25, deadline=None)
@given(histories)
def test_any_history_ends_as_the_coalescing_rules_say(template_database: Path, history: list[tuple[Any, ...]]) -> None:
    async def scenario(db: Database, log: ChangeLog) -> list[Change]:
        for step in history:
            if step[0] == "push":
                async with db.write() as session:
                    await log.mark_pushed(session, [change.seq for change in await log.pending(session)])
                continue
            _, record, op, fields, base_version = step
            with suppress(InvalidChange):
                await edit(db, log, record, op, fields, base_version)
        async with db.read() as session:
            return await log.pending(session, limit=1_000)

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "outpost.db"
        shutil.copyfile(template_database, path)
        changes = with_log(path, scenario)
    assert [(c.record_id, c.op, c.fields, c.base_version, c.pushed) for c in changes] == expected_log(history)


def test_appends_made_at_once_store_what_appends_one_by_one_store(database_path: Path) -> None:
    def change(record_id: str, op: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "collection_id": COLLECTION_ID,
            "collection": "sites",
            "record_id": record_id,
            "op": op,
            "fields": fields,
            "schema_version": 1,
            "base_version": 0,
        }

    async def scenario(db: Database, log: ChangeLog) -> None:
        await edit(db, log, "r0", "delete", {})
        batch = [change("r1", "insert", {"fa": 1}), change("r2", "insert", {"fa": None}), change("r1", "update", {})]
        await db.write_in_thread(lambda session: log.append_all_in(session, batch))
        with pytest.raises(InvalidChange, match="cannot follow"):  # an insert over r0's unpushed delete
            await db.write_in_thread(lambda session: log.append_all_in(session, [change("r0", "insert", {})]))

    with_log(database_path, scenario)
    rows = stored(database_path)
    assert [(op, fields) for _, op, fields, *_ in rows] == [
        ("delete", "{}"),
        ("insert", '{"fa":1}'),
        ("insert", '{"fa":null}'),
    ]
    assert rows[1][5] > rows[2][5]  # r1's update coalesced into its insert, taking the later reading
