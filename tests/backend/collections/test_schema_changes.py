"""Schema changes on real SQLite files keep every record: add, rename, drop, retype, indexes, refusals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from backend.collections.definition import CollectionDef, FieldDef, FieldType, Relation
from backend.collections.service import CollectionService
from backend.collections.tables import index_name
from backend.errors import Conflict, ValidationFailed
from backend.observability.audit_models import AuditEvent
from tests.backend.collections.conftest import ACTOR, put_rows, read_rows

pytestmark = pytest.mark.anyio


def text_field(name: str, **rules: Any) -> FieldDef:
    return FieldDef("", name, FieldType.TEXT, **rules)


async def make(service: CollectionService, *fields: FieldDef, name: str = "sites") -> CollectionDef:
    return (await service.create(ACTOR, name=name, description="", fields=list(fields))).definition


def columns(engine: Engine, definition: CollectionDef) -> list[str]:
    return [column["name"] for column in inspect(engine).get_columns(definition.table_name)]


def indexes(engine: Engine, definition: CollectionDef) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes(definition.table_name)}


async def change(service: CollectionService, definition: CollectionDef, *fields: FieldDef) -> CollectionDef:
    view = await service.update(ACTOR, definition.name, fields=list(fields))
    return view.definition


async def test_adding_a_field_keeps_records_and_fills_in_its_default(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code"))
    ids = put_rows(sql, sites, [{"code": "A"}, {"code": "B"}])
    changed = await change(service, sites, *sites.fields, FieldDef("", "visits", FieldType.INTEGER, default=3))
    assert changed.schema_version == 2
    rows = read_rows(sql, changed)
    assert [(rows[i]["code"], rows[i]["visits"]) for i in ids] == [("A", 3), ("B", 3)]


async def test_a_rename_keeps_values_and_the_index(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code", unique=True), text_field("label", indexed=True))
    ids = put_rows(sql, sites, [{"code": "A", "label": "x"}, {"code": "B", "label": "y"}])
    code, label = sites.fields
    changed = await change(service, sites, replace(code, name="ref"), label)
    assert columns(sql, changed)[-2:] == ["label", "ref"] or columns(sql, changed)[-2:] == ["ref", "label"]
    rows = read_rows(sql, changed)
    assert [rows[i]["ref"] for i in ids] == ["A", "B"]
    assert indexes(sql, changed)[index_name(changed, code, unique=True)] == ["ref"]


async def test_names_can_swap(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("a"), text_field("b"))
    [record] = put_rows(sql, sites, [{"a": "one", "b": "two"}])
    first, second = sites.fields
    changed = await change(service, sites, replace(first, name="b"), replace(second, name="a"))
    assert (read_rows(sql, changed)[record]["b"], read_rows(sql, changed)[record]["a"]) == ("one", "two")


async def test_a_drop_removes_the_column_and_its_indexes(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code", unique=True), text_field("note", indexed=True))
    put_rows(sql, sites, [{"code": "A", "note": "n"}])
    _code, note = sites.fields
    changed = await change(service, sites, note)
    assert "code" not in columns(sql, changed)
    assert list(indexes(sql, changed)) == [index_name(changed, note, unique=False)]
    assert [row["note"] for row in read_rows(sql, changed).values()] == ["n"]


async def test_a_retype_rebuilds_the_table_keeping_rows_tombstones_and_indexes(
    service: CollectionService, sql: Engine
) -> None:
    sites = await make(
        service, FieldDef("", "visits", FieldType.INTEGER, unique=True), text_field("code", indexed=True)
    )
    live = put_rows(sql, sites, [{"visits": n, "code": f"c{n}"} for n in range(20)])
    dead = put_rows(sql, sites, [{"visits": 5, "code": "gone"}], deleted=True)
    visits, code = sites.fields
    preview = await service.preview("sites", fields=[replace(visits, type=FieldType.NUMBER), code])
    assert preview.plan.rebuild
    changed = await change(service, sites, replace(visits, type=FieldType.NUMBER), code)
    rows = read_rows(sql, changed)
    assert set(rows) == {*live, *dead}
    assert [rows[i]["visits"] for i in live] == [float(n) for n in range(20)]
    assert all(isinstance(rows[i]["visits"], float) for i in live)
    assert rows[dead[0]]["_deleted"] is True
    assert set(indexes(sql, changed)) == {
        index_name(changed, visits, unique=True),
        index_name(changed, code, unique=False),
    }
    with sql.connect() as connection:
        declared = {c["name"]: str(c["type"]) for c in inspect(connection).get_columns("c_sites")}
        leftovers = [name for name in inspect(connection).get_table_names() if "rebuild" in name]
    assert declared["visits"] in ("FLOAT", "DOUBLE PRECISION")  # SQLite's name and PostgreSQL's for Float
    assert leftovers == []


async def test_the_writer_has_foreign_keys_on_again_after_a_rebuild(service: CollectionService, sql: Engine) -> None:
    if service.db.engine_name != "sqlite":
        pytest.skip("SQLite's rebuild turns foreign keys off; PostgreSQL keeps its constraints on throughout")
    sites = await make(service, FieldDef("", "visits", FieldType.INTEGER))
    await change(service, sites, replace(sites.fields[0], type=FieldType.TEXT))
    async with service.db.write() as session:
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1


async def test_select_becomes_multiple_in_place(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, FieldDef("", "kind", FieldType.SELECT, options=("a", "b")))
    ids = put_rows(sql, sites, [{"kind": "a"}, {"kind": None}])
    preview = await service.preview("sites", fields=[replace(sites.fields[0], multiple=True)])
    assert not preview.plan.rebuild
    changed = await change(service, sites, replace(sites.fields[0], multiple=True))
    rows = read_rows(sql, changed)
    assert [rows[i]["kind"] for i in ids] == [["a"], None]


async def test_scalars_become_json(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("note"), FieldDef("", "ok", FieldType.BOOLEAN))
    [record] = put_rows(sql, sites, [{"note": "12", "ok": True}])
    note, ok = sites.fields
    changed = await change(service, sites, replace(note, type=FieldType.JSON), replace(ok, type=FieldType.JSON))
    row = read_rows(sql, changed)[record]
    assert (row["note"], row["ok"]) == ("12", True)


async def test_text_becomes_email_only_when_every_value_is_one(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("contact"))
    put_rows(sql, sites, [{"contact": "a@example.org"}])
    bad = put_rows(sql, sites, [{"contact": "not an address"}])
    put_rows(sql, sites, [{"contact": "also bad"}], deleted=True)  # a tombstone is not checked
    as_email = replace(sites.fields[0], type=FieldType.EMAIL)
    with pytest.raises(Conflict) as refused:
        await change(service, sites, as_email)
    assert refused.value.extra["violations"] == [{"field": "contact", "count": 1, "sample_ids": bad}]
    assert refused.value.errors[0].field == "fields[0].type"


async def test_a_lossy_retype_is_refused(service: CollectionService) -> None:
    sites = await make(service, text_field("code"))
    with pytest.raises(Conflict) as refused:
        await change(service, sites, replace(sites.fields[0], type=FieldType.INTEGER))
    assert refused.value.errors[0].field == "fields[0].type"


async def test_required_is_refused_with_the_count_and_five_ids(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code"))
    put_rows(sql, sites, [{"code": "A"}])
    empty = put_rows(sql, sites, [{"code": None}] * 4 + [{"code": ""}] * 3)
    with pytest.raises(Conflict) as refused:
        await change(service, sites, replace(sites.fields[0], required=True))
    [violation] = refused.value.extra["violations"]
    assert violation["count"] == 7
    assert violation["sample_ids"] == sorted(empty)[:5]
    assert refused.value.errors[0].field == "fields[0].required"
    assert refused.value.errors[0].message == "7 records have no value"
    unchanged = await service.get("sites")
    assert unchanged.definition.schema_version == 1
    assert not unchanged.definition.fields[0].required


async def test_unique_is_refused_while_values_repeat(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code"))
    twins = put_rows(sql, sites, [{"code": "A"}, {"code": "A"}])
    put_rows(sql, sites, [{"code": "B"}, {"code": None}, {"code": None}])
    put_rows(sql, sites, [{"code": "B"}], deleted=True)
    with pytest.raises(Conflict) as refused:
        await change(service, sites, replace(sites.fields[0], unique=True))
    assert refused.value.extra["violations"] == [{"field": "code", "count": 2, "sample_ids": sorted(twins)}]


async def test_tighter_limits_are_refused_and_looser_ones_pass(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, FieldDef("", "visits", FieldType.INTEGER), text_field("code"))
    high = put_rows(sql, sites, [{"visits": 50, "code": "abcdef"}, {"visits": 5, "code": "ab"}])[:1]
    visits, code = sites.fields
    limits = replace(visits.constraints, max=10)
    with pytest.raises(Conflict) as refused:
        await change(service, sites, replace(visits, constraints=limits), code)
    assert refused.value.extra["violations"] == [{"field": "visits", "count": 1, "sample_ids": high}]
    short = replace(code.constraints, max_length=3)
    with pytest.raises(Conflict):
        await change(service, sites, visits, replace(code, constraints=short))
    pattern = replace(code.constraints, pattern="^ab")
    assert (
        await change(
            service, sites, replace(visits, constraints=replace(limits, max=100)), replace(code, constraints=pattern)
        )
    ).schema_version == 2


async def test_removing_an_option_in_use_is_refused(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, FieldDef("", "kind", FieldType.SELECT, options=("a", "b")))
    used = put_rows(sql, sites, [{"kind": "b"}])
    with pytest.raises(Conflict) as refused:
        await change(service, sites, replace(sites.fields[0], options=("a",)))
    assert refused.value.extra["violations"][0]["sample_ids"] == used


async def test_a_dry_run_changes_nothing(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code"), FieldDef("", "visits", FieldType.INTEGER))
    put_rows(sql, sites, [{"code": None, "visits": 1}])
    code, visits = sites.fields
    preview = await service.preview(
        "sites", fields=[replace(code, required=True, name="ref"), replace(visits, type=FieldType.NUMBER)]
    )
    assert {c.kind.value for c in preview.plan.changes} == {"rename", "required", "retype"}
    assert preview.plan.rebuild
    assert [(v.field, v.count) for v in preview.violations] == [("ref", 1)]
    assert columns(sql, sites)[-2:] == ["code", "visits"]
    assert (await service.get("sites")).definition.schema_version == 1


async def test_every_change_bumps_the_version_and_is_audited_with_its_plan(service: CollectionService) -> None:
    sites = await make(service, text_field("code"))
    await service.update(ACTOR, "sites", description="where we go")
    await service.update(ACTOR, "sites", fields=[*sites.fields, text_field("note")])
    same = await service.update(ACTOR, "sites", description="where we go")  # no change, no new version
    assert same.definition.schema_version == 3
    async with service.db.read() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action.like("collection.%")))).all()
    assert [e.action for e in events] == ["collection.create", "collection.update", "collection.update"]
    assert events[2].details["changes"] == [{"kind": "add", "field": "note", "detail": "new text field"}]
    assert events[2].details["schema_version"] == 3


async def test_a_stale_schema_version_is_refused(service: CollectionService) -> None:
    await make(service, text_field("code"))
    await service.update(ACTOR, "sites", description="x", expected_version=1)
    with pytest.raises(Conflict):
        await service.update(ACTOR, "sites", description="y", expected_version=1)


async def test_relations_need_their_target_and_hold_it_back_from_deletion(
    service: CollectionService, sql: Engine
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await make(service, FieldDef("", "site", FieldType.RELATION, relation=Relation("sites")), name="visits")
    assert refused.value.errors[0].field == "fields[0].relation.collection"
    sites = await make(
        service, text_field("code"), FieldDef("", "parent", FieldType.RELATION, relation=Relation("sites"))
    )
    await make(service, FieldDef("", "site", FieldType.RELATION, relation=Relation("sites")), name="visits")
    with pytest.raises(Conflict) as held:
        await service.delete(ACTOR, "sites")
    assert held.value.extra["related_fields"] == ["visits.site"]
    await service.delete(ACTOR, "visits")
    await service.delete(ACTOR, "sites")  # its own relation to itself does not hold it back
    assert not inspect(sql).has_table(sites.table_name)
    assert service.catalog.cached("sites") is None


async def test_the_catalog_follows_changes_and_compiles_once_per_version(service: CollectionService) -> None:
    heard: list[tuple[str, int | None]] = []
    service.catalog.subscribe(lambda name, d: heard.append((name, d.schema_version if d else None)))
    sites = await make(service, text_field("code"))
    first = service.catalog.table(await service.catalog.get("sites"))
    assert service.catalog.table(await service.catalog.get("sites")) is first
    await service.update(ACTOR, "sites", fields=[*sites.fields, text_field("note")])
    second = service.catalog.table(await service.catalog.get("sites"))
    assert second is not first
    assert "note" in second.c
    await service.delete(ACTOR, "sites")
    assert heard == [("sites", 1), ("sites", 2), ("sites", None)]


async def test_an_added_date_field_fills_in_its_default_as_a_date(service: CollectionService, sql: Engine) -> None:
    sites = await make(service, text_field("code"))
    [record] = put_rows(sql, sites, [{"code": "A"}])
    opened = FieldDef("", "opened", FieldType.DATE, default="2026-05-01")
    changed = await change(service, sites, *sites.fields, opened)
    assert str(read_rows(sql, changed)[record]["opened"]) == "2026-05-01"
