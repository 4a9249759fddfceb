"""An in-process instance with test collections (people, sites, inspections, permits) served by the record routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.collections.definition import (
    CollectionDef,
    Constraints,
    FieldDef,
    FieldType,
    OnDelete,
    Relation,
    new_field_id,
)
from backend.records.batch import BatchService
from backend.records.service import RecordService
from tests.backend.auth.helpers import Instance, Template, template_on
from tests.backend.records.standins import CHANGES, CountingClock, MemoryCatalog, TableChangeLog
from tests.postgres import ENGINES, plain_engine


def _field(name: str, kind: FieldType, **extra: Any) -> FieldDef:
    return FieldDef(new_field_id(), name, kind, **extra)


def collections() -> list[CollectionDef]:
    """people <- sites.manager (set_null); sites <- inspections.site (cascade), permits.site (restrict)."""
    people = CollectionDef("c-people", "people", (_field("name", FieldType.TEXT, required=True),))
    sites = CollectionDef(
        "c-sites",
        "sites",
        (
            _field("code", FieldType.TEXT, required=True, unique=True),
            _field("name", FieldType.TEXT, constraints=Constraints(min_length=2, max_length=40)),
            _field("visits", FieldType.INTEGER, constraints=Constraints(min=0, max=1000)),
            _field("score", FieldType.NUMBER, constraints=Constraints(min=0.0, max=10.0)),
            _field("active", FieldType.BOOLEAN, default=True),
            _field("opened", FieldType.DATE, constraints=Constraints(min="2000-01-01")),
            _field("seen", FieldType.DATETIME),
            _field("contact", FieldType.EMAIL),
            _field("homepage", FieldType.URL),
            _field("kind", FieldType.SELECT, options=("depot", "clinic", "school")),
            _field("tags", FieldType.SELECT, options=("red", "green", "blue"), multiple=True),
            _field("extra", FieldType.JSON),
            _field("manager", FieldType.RELATION, relation=Relation("people", OnDelete.SET_NULL)),
        ),
    )
    inspections = CollectionDef(
        "c-inspections",
        "inspections",
        (
            _field("site", FieldType.RELATION, required=True, relation=Relation("sites", OnDelete.CASCADE)),
            _field("rating", FieldType.INTEGER),
        ),
    )
    permits = CollectionDef(
        "c-permits", "permits", (_field("site", FieldType.RELATION, relation=Relation("sites", OnDelete.RESTRICT)),)
    )
    return [people, sites, inspections, permits]


def install_collections(instance: Instance) -> MemoryCatalog:
    """Create the test collections' tables and serve them through a record service on stand-ins."""
    catalog = MemoryCatalog(*collections())
    engine = plain_engine(instance.settings)
    with engine.begin() as connection:
        for definition in catalog.definitions.values():
            catalog.table(definition).create(connection)
        CHANGES.create(connection)
    engine.dispose()
    state = instance.client.app.state
    state.records = RecordService(state.db, catalog, CountingClock(), TableChangeLog(), state.records.cursors)
    state.batch = BatchService(state.records, state.identity.audit)
    return catalog


@pytest.fixture(scope="session", params=ENGINES)
def records_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """The records tests run on SQLite and on PostgreSQL."""
    with template_on(request.param, tmp_path_factory.mktemp("records-template") / "data") as template:
        yield template


@pytest.fixture
def records(records_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """An instance of the test's own with the test collections, empty."""
    with records_template.copy(tmp_path_factory.mktemp("records") / "data", rate_limit_per_minute=10**6) as instance:
        install_collections(instance)
        yield instance
