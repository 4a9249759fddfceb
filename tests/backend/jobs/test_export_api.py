"""Export over the API: a job that writes every value of every field type, downloaded as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.records import export
from tests.waiting import wait_until

FIELDS = [
    {"name": "code", "type": "text", "required": True, "unique": True},
    {"name": "visits", "type": "integer"},
    {"name": "score", "type": "number"},
    {"name": "active", "type": "boolean"},
    {"name": "opened", "type": "date"},
    {"name": "seen", "type": "datetime"},
    {"name": "contact", "type": "email"},
    {"name": "homepage", "type": "url"},
    {"name": "kind", "type": "select", "options": ["depot", "clinic"]},
    {"name": "tags", "type": "select", "options": ["red", "green", "blue"], "multiple": True},
    {"name": "extra", "type": "json"},
    {"name": "manager", "type": "relation", "relation": {"collection": "people", "on_delete": "set_null"}},
]


def _records(client: TestClient[Litestar]) -> list[dict[str, Any]]:
    assert client.post(
        "/api/v1/collections", json={"name": "people", "fields": [{"name": "n", "type": "text"}]}
    ).is_success
    assert client.post("/api/v1/collections", json={"name": "sites", "fields": FIELDS}).is_success
    person = client.post("/api/v1/collections/people/records", json={"n": "Ama"}).json()
    bodies = [
        {
            "code": 'A-1, "quoted"\nline',
            "visits": 3,
            "score": 0.1 + 0.2,
            "active": True,
            "opened": "2024-02-29",
            "seen": "2026-12-07T10:11:12.345678Z",
            "contact": "a@example.org",
            "homepage": "https://example.org/a?b=c",
            "kind": "depot",
            "tags": ["red", "blue"],
            "extra": {"nested": [1, "two", None], "n": 123},
            "manager": person["id"],
        },
        {"code": "B-2 ünïcødé ✓", "active": False, "extra": "123", "tags": []},
        {"code": "C-3"},  # every other field null
    ]
    made = []
    for body in bodies:
        reply = client.post("/api/v1/collections/sites/records", json=body)
        assert reply.status_code == 201, reply.text
        made.append(reply.json())
    return sorted(made, key=lambda record: record["id"])


def _finished(client: TestClient[Litestar], job_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def done() -> bool:
        seen.update(client.get(f"/api/v1/jobs/{job_id}").json())
        return seen["state"] in ("succeeded", "failed", "cancelled")

    assert wait_until(done, timeout_s=30), seen
    return seen


def _export(client: TestClient[Litestar], body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    started = client.post("/api/v1/collections/sites/export", json=body)
    assert started.status_code == 202, started.text
    job = _finished(client, started.json()["id"])
    assert job["state"] == "succeeded", job
    download = client.get(f"/api/v1/jobs/{job['id']}/file")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="sites-')
    return job, download.text


def test_jsonl_export_holds_each_record_exactly_as_the_api_shows_it(client: TestClient[Litestar]) -> None:
    made = _records(client)
    job, text = _export(client, {"format": "jsonl"})
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == made
    assert (job["result"]["rows"], job["progress"]) == (3, 100)


def test_csv_export_writes_one_text_cell_per_field(client: TestClient[Litestar]) -> None:
    made = _records(client)
    _, text = _export(client, {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", *(field["name"] for field in FIELDS), "created_at", "updated_at", "created_by",
                             "updated_by", "_version", "_rev"]  # fmt: skip
    full = next(record for record in made if record["code"].startswith("A"))
    first = next(row for row in rows if row["id"] == full["id"])
    assert first["code"] == full["code"]  # commas, quotes and a line break survive
    assert first["score"] == "0.30000000000000004"
    assert (first["active"], first["visits"], first["opened"]) == ("true", "3", "2024-02-29")
    assert json.loads(first["tags"]) == ["red", "blue"]
    assert json.loads(first["extra"]) == {"nested": [1, "two", None], "n": 123}
    empty = next(row for row in rows if row["code"] == "C-3")
    assert empty["visits"] == empty["extra"] == empty["manager"] == ""


def test_a_filtered_export_holds_only_the_matching_records(client: TestClient[Litestar]) -> None:
    _records(client)
    job, text = _export(client, {"format": "jsonl", "filter": 'code ~ "B-"'})
    assert [json.loads(line)["code"] for line in text.splitlines()] == ["B-2 ünïcødé ✓"]
    assert job["params"] == {"collection": "sites", "format": "jsonl", "filter": 'code ~ "B-"'}


def test_a_bad_filter_or_collection_is_refused_before_any_job(client: TestClient[Litestar]) -> None:
    _records(client)
    bad = client.post("/api/v1/collections/sites/export", json={"filter": "code ="})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "filter"
    assert client.post("/api/v1/collections/nowhere/export", json={}).status_code == 404
    assert client.get("/api/v1/jobs", params={"kind": "export"}).json()["items"] == []


def test_the_file_needs_the_right_to_read_the_collection(client: TestClient[Litestar]) -> None:
    _records(client)
    job, _ = _export(client, {"format": "csv"})
    role = {"name": "job-watcher", "description": "", "permissions": ["jobs:read"]}
    assert client.post("/api/v1/roles", json=role).is_success
    user = {"email": "watcher@example.org", "display_name": "W", "password": "a long test passphrase 77",
            "roles": ["job-watcher"]}  # fmt: skip
    assert client.post("/api/v1/users", json=user).is_success
    signed_in = client.post("/api/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    watcher = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=watcher).status_code == 200
    refused = client.get(f"/api/v1/jobs/{job['id']}/file", headers=watcher)
    assert refused.status_code == 403
    assert "records:read:sites" in refused.json()["detail"]


def test_chunks_written_plain_and_chunks_that_need_quoting_are_what_the_csv_module_writes(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)  # five records: chunks of two, the quoting ones among them
    fields = [
        {"name": "code", "type": "text"},
        {"name": "visits", "type": "integer"},
        {"name": "score", "type": "number"},
        {"name": "active", "type": "boolean"},
        {"name": "opened", "type": "date"},
        {"name": "seen", "type": "datetime"},
    ]
    assert client.post("/api/v1/collections", json={"name": "sites", "fields": fields}).is_success
    bodies = [
        {"code": "plain", "visits": 1, "score": 1e16, "active": False, "opened": "2024-02-29",
         "seen": "2026-01-02T03:04:05Z"},
        {"code": "also plain", "visits": -2, "score": 0.5, "active": True, "seen": "2026-01-02T03:04:05.5Z"},
        {"code": 'a "quote"', "score": 3.0},
        {},  # every field null
        {"code": "a, comma\r\nand a line break", "active": True},
    ]  # fmt: skip
    for body in bodies:
        assert client.post("/api/v1/collections/sites/records", json=body).status_code == 201
    records = _all_records(client)
    _, text = _export(client, {"format": "csv"})

    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    header = ["id", *(field["name"] for field in fields), *export.SYSTEM_COLUMNS]
    writer.writerow(header)
    writer.writerows([export.csv_cell(record[name]) for name in header] for record in records)
    assert text == expected.getvalue()


def _all_records(client: TestClient[Litestar]) -> list[dict[str, Any]]:
    page = client.get("/api/v1/collections/sites/records", params={"sort": "id", "limit": 100}).json()
    return list(page["items"])
