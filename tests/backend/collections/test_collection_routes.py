"""/api/v1/collections over the in-process app: replies, status codes, problems and permissions."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine

from backend.collections.catalog import CollectionCatalog
from tests.backend.collections.conftest import put_rows

URL = "/api/v1/collections"
FIELDS = [
    {"name": "code", "type": "text", "unique": True},
    {"name": "visits", "type": "integer", "constraints": {"min": 0}},
]


def test_create_get_list_and_delete(client: TestClient[Litestar]) -> None:
    created = client.post(URL, json={"name": "sites", "description": "Where we go", "fields": FIELDS})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{URL}/sites"
    body = created.json()
    assert body["schema_version"] == 1
    assert body["record_count"] == 0
    assert [f["name"] for f in body["fields"]] == ["code", "visits"]
    assert all(f["id"].startswith("f") and len(f["id"]) == 11 for f in body["fields"])
    assert body["fields"][1]["constraints"]["min"] == 0
    assert client.get(f"{URL}/sites").json() == body
    listed = client.get(URL, params={"limit": 1}).json()
    assert [c["name"] for c in listed["items"]] == ["sites"]
    assert client.post(URL, json={"name": "sites"}).status_code == 409
    assert client.delete(f"{URL}/sites").status_code == 204
    assert client.get(f"{URL}/sites").status_code == 404


def test_lists_page_by_name_with_record_counts(client: TestClient[Litestar]) -> None:
    for name in ("b", "a", "c"):
        assert client.post(URL, json={"name": name, "fields": FIELDS}).status_code == 201
    catalog: CollectionCatalog = client.app.state.catalog
    engine = create_engine(f"sqlite:///{client.app.state.db.path}")
    put_rows(engine, catalog.cached("b"), [{"code": "x"}, {"code": "y"}])  # type: ignore[arg-type]
    put_rows(engine, catalog.cached("b"), [{"code": "z"}], deleted=True)  # type: ignore[arg-type]
    engine.dispose()
    first = client.get(URL, params={"limit": 2}).json()
    second = client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [(c["name"], c["record_count"]) for c in first["items"] + second["items"]] == [("a", 0), ("b", 2), ("c", 0)]
    assert second["next_cursor"] is None


def test_bad_definitions_are_422_with_every_field_named(client: TestClient[Litestar]) -> None:
    fields = [
        {"name": "id", "type": "text"},
        {"name": "kind", "type": "select"},
        {"name": "n", "type": "integer", "default": "three", "constraints": {"min": 5, "max": 1}},
        {"name": "null", "type": "text"},  # a filter could never name it
    ]
    refused = client.post(URL, json={"name": "sites", "fields": fields})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "fields[0].name",
        "fields[1].options",
        "fields[2].default",
        "fields[2].constraints.max",
        "fields[3].name",
    }


def test_patch_dry_run_then_refusal_then_change(client: TestClient[Litestar]) -> None:
    created = client.post(URL, json={"name": "sites", "fields": FIELDS}).json()
    catalog: CollectionCatalog = client.app.state.catalog
    engine = create_engine(f"sqlite:///{client.app.state.db.path}")
    empty = put_rows(engine, catalog.cached("sites"), [{"visits": 1}, {"visits": 2}])  # type: ignore[arg-type]
    engine.dispose()
    code, visits = created["fields"]
    fields = [{**code, "name": "ref", "required": True}, {**visits, "type": "number"}]
    preview = client.patch(f"{URL}/sites", params={"dry_run": "true"}, json={"fields": fields})
    assert preview.status_code == 200, preview.text
    assert preview.json()["rebuild"] is True
    assert {c["kind"] for c in preview.json()["changes"]} == {"rename", "required", "retype"}
    assert preview.json()["violations"] == [{"field": "ref", "count": 2, "sample_ids": sorted(empty)}]
    refused = client.patch(f"{URL}/sites", json={"fields": fields})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [{"field": "fields[0].required", "message": "2 records have no value"}]
    assert refused.json()["violations"][0]["count"] == 2
    fields[0]["required"] = False
    changed = client.patch(f"{URL}/sites", json={"fields": fields, "schema_version": 1})
    assert changed.status_code == 200, changed.text
    assert changed.json()["schema_version"] == 2
    assert [f["name"] for f in changed.json()["fields"]] == ["ref", "visits"]
    assert changed.json()["record_count"] == 2
    stale = client.patch(f"{URL}/sites", json={"description": "x", "schema_version": 1})
    assert stale.status_code == 409


def test_a_field_id_from_elsewhere_is_422(client: TestClient[Litestar]) -> None:
    client.post(URL, json={"name": "sites", "fields": FIELDS})
    refused = client.patch(f"{URL}/sites", json={"fields": [{"id": "faaaaaaaaaa", "name": "x", "type": "text"}]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "fields[0].id"


def test_reading_needs_collections_read(client: TestClient[Litestar]) -> None:
    client.post(URL, json={"name": "sites", "fields": FIELDS})
    key = client.post("/api/v1/api-keys", json={"name": "one", "scopes": ["collections:read:sites"]}).json()["key"]
    client.headers.pop("Authorization")
    client.headers["X-API-Key"] = key
    assert client.get(f"{URL}/sites").status_code == 200
    assert client.get(URL).status_code == 403
    assert client.patch(f"{URL}/sites", json={"description": "x"}).status_code == 403
