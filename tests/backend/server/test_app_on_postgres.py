"""The whole app on PostgreSQL (server mode), through its HTTP API: the same answers as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from backend.app import create_app
from backend.settings import load_settings
from backend.startup import prepare_data_dir
from tests.conftest import TEST_HOST, sign_in_first_admin
from tests.postgres import fresh_postgres_database

FIELDS = [
    {"name": "title", "type": "text", "unique": True},
    {"name": "n", "type": "integer", "indexed": True},
    {"name": "tags", "type": "json"},
    {"name": "when", "type": "datetime"},
    {"name": "score", "type": "number"},
    {"name": "done", "type": "boolean"},
    {"name": "day", "type": "date"},
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """A signed-in client of an app whose database is a fresh PostgreSQL one."""
    with fresh_postgres_database() as url:
        flags = {
            "data_dir": tmp_path / "data",
            "allowed_hosts": f"{TEST_HOST},testserver",
            "backup_interval_hours": 0,
            "database_url": url,
        }
        app = create_app(prepare_data_dir(load_settings(flags, {})).settings)
        with TestClient(app, base_url=f"http://{TEST_HOST}") as test_client:
            headers = sign_in_first_admin(test_client)  # server mode: on the database, as the CLI does
            refused = test_client.post("/api/v1/setup", json={"email": "x@example.org", "password": "p" * 20})
            assert refused.status_code == 403, "server mode has no /setup"
            test_client.headers.update(headers)
            yield test_client


def test_records_round_trip_with_unicode_filters_and_conflicts(client: TestClient[Litestar]) -> None:
    assert client.app.state.settings.mode == "server"
    assert client.post("/api/v1/collections", json={"name": "items", "fields": FIELDS}).status_code == 201
    body = {
        "title": "Élan",
        "n": 3,
        "tags": ["a", None],
        "when": "2026-01-01T10:00:00.250000Z",
        "score": 2.5,
        "done": True,
        "day": "2026-02-03",
    }
    created = client.post("/api/v1/collections/items/records", json=body)
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    read = client.get(f"/api/v1/collections/items/records/{record_id}").json()
    assert {name: read[name] for name in body} == body
    for title, n in (("b", 1), ("c", None)):
        assert client.post("/api/v1/collections/items/records", json={"title": title, "n": n}).status_code == 201
    clash = client.post("/api/v1/collections/items/records", json={"title": "b"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "title"

    def titles(**params: str) -> list[str]:
        reply = client.get("/api/v1/collections/items/records", params=params)
        assert reply.status_code == 200, reply.text
        return [item["title"] for item in reply.json()["items"]]

    assert titles(filter="title ~ 'élan'") == ["Élan"], "case-insensitive contains folds all of Unicode"
    assert titles(sort="n") == ["b", "Élan", "c"], "NULLs last"
    assert titles(sort="-title") == ["Élan", "c", "b"], "text by code point: É after every ASCII letter"
    etag = client.get(f"/api/v1/collections/items/records/{record_id}").headers["etag"]
    patched = client.patch(f"/api/v1/collections/items/records/{record_id}", json={"n": 5}, headers={"If-Match": etag})
    assert patched.status_code == 200, patched.text
    stale = client.patch(f"/api/v1/collections/items/records/{record_id}", json={"n": 6}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.delete(f"/api/v1/collections/items/records/{record_id}").status_code == 204
    assert client.get(f"/api/v1/collections/items/records/{record_id}").status_code == 404


def test_parallel_audited_writes_keep_one_unbroken_chain(client: TestClient[Litestar]) -> None:
    def make_key(n: int) -> int:
        return client.post("/api/v1/api-keys", json={"name": f"key {n}", "scopes": ["collections:read"]}).status_code

    before = client.blocking_portal.call(client.app.state.identity.audit.verify).rows
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(make_key, range(40))) == {201}
    report = client.blocking_portal.call(client.app.state.identity.audit.verify)
    assert report.ok, report.problems
    assert report.rows == before + 40, "every key's creation is in the chain, each at its own position"


def test_the_anchor_in_the_database_catches_a_cut_tail_and_a_forged_anchor(client: TestClient[Litestar]) -> None:
    assert client.post("/api/v1/api-keys", json={"name": "one", "scopes": ["collections:read"]}).status_code == 201
    audit = client.app.state.identity.audit
    report = client.blocking_portal.call(audit.verify)
    assert report.ok, report.problems
    assert report.anchored_position == report.rows, "every instance's appends move the one anchor"
    assert not audit.anchor_path.exists(), "server mode keeps no anchor file"

    def change(sql: str) -> None:
        client.blocking_portal.call(client.app.state.db.write_in_thread, lambda session: session.execute(text(sql)))

    change("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)")
    cut = client.blocking_portal.call(audit.verify)
    assert any("rows cut from the end" in problem for problem in cut.problems), cut.problems
    change("UPDATE audit_anchor SET position = position - 1")
    forged = client.blocking_portal.call(audit.verify)
    assert any("MAC does not match" in problem for problem in forged.problems), forged.problems
