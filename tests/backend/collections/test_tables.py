"""Record tables built from collection definitions, on a real SQLite file."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from backend.collections.definition import CollectionDef, FieldDef, FieldType, Relation, new_field_id
from backend.collections.tables import SYSTEM_COLUMNS, record_table


def _definition() -> CollectionDef:
    return CollectionDef(
        id="c1",
        name="sites",
        fields=(
            FieldDef(new_field_id(), "code", FieldType.TEXT, unique=True),
            FieldDef(new_field_id(), "visits", FieldType.INTEGER, indexed=True),
            FieldDef(new_field_id(), "opened", FieldType.DATE),
            FieldDef(new_field_id(), "seen", FieldType.DATETIME),
            FieldDef(new_field_id(), "extra", FieldType.JSON),
            FieldDef(new_field_id(), "tags", FieldType.SELECT, options=("a", "b"), multiple=True),
            FieldDef(new_field_id(), "parent", FieldType.RELATION, relation=Relation("sites")),
        ),
    )


def _row(record_id: str, code: str, *, deleted: bool = False) -> dict[str, object]:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return {"id": record_id, "created_at": now, "updated_at": now, "_hlc": "h", "_deleted": deleted, "code": code}


def test_the_table_has_the_system_columns_then_one_column_per_field(tmp_path: Path) -> None:
    definition = _definition()
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    record_table(definition).create(engine)
    columns = [column["name"] for column in inspect(engine).get_columns("c_sites")]
    assert columns == [*SYSTEM_COLUMNS, *(spec.name for spec in definition.fields)]
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("c_sites")}
    code, visits, parent = definition.fields[0], definition.fields[1], definition.fields[6]
    assert indexes[f"ux_c_sites_{code.id}"]["unique"]
    assert f"ix_c_sites_{visits.id}" in indexes
    assert f"ix_c_sites_{parent.id}" in indexes  # relations are always looked up by the related id


def test_json_text_that_looks_like_a_number_stays_text_and_values_round_trip(tmp_path: Path) -> None:
    table = record_table(_definition())
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table).values(
                **_row("r1", "A"),
                extra="123",
                tags=["a"],
                opened=date(2026, 5, 1),
                seen=datetime(2026, 5, 1, tzinfo=UTC),
            )
        )
        row = connection.execute(select(table)).one()
    assert row.extra == "123"
    assert row.tags == ["a"]
    assert row.opened == date(2026, 5, 1)
    assert row.seen == datetime(2026, 5, 1, tzinfo=UTC)


def test_a_unique_value_is_unique_among_live_records_only(tmp_path: Path) -> None:
    table = record_table(_definition())
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table).values(**_row("r1", "A", deleted=True)))
        connection.execute(insert(table).values(**_row("r2", "A")))  # the tombstone does not hold "A"
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(table).values(**_row("r3", "A")))
