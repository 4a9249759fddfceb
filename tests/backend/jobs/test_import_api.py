"""Import over the API: uploads streamed to disk, rows through the record service, an exact report of bad rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.settings import load_settings
from backend.startup import prepare_data_dir
from tests.backend.jobs.test_export_api import _export, _finished, _records
from tests.conftest import TEST_HOST, sign_in_first_admin

SYSTEM = ("created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")
BAD_CSV = (
    "code,visits,active,opened,kind\n"
    "OK-1,1,true,2024-01-01,depot\n"  # row 2: good
    ",x,maybe,2024-13-01,depot\n"  # row 3: code missing, visits and active not typed, opened no date
    "OK-2,2,false,,shop\n"  # row 4: kind not an option
    "OK-1,3,true,,\n"  # row 5: code taken by row 2 (the database says so)
    "OK-3,4,,,clinic\n"  # row 6: good
)
EXPECTED = [
    {"row": 3, "field": "visits", "message": "'x' is not a whole number"},
    {"row": 3, "field": "active", "message": "'maybe' is not true or false"},
    {"row": 3, "field": "code", "message": "is required"},
    {"row": 3, "field": "opened", "message": "must be a date as YYYY-MM-DD"},
    {"row": 4, "field": "kind", "message": "must be one of: depot, clinic"},
    {"row": 5, "field": "code", "message": "must be unique: another record has this value"},
]


def _import(client: TestClient[Litestar], collection: str, body: bytes, **params: str) -> dict[str, Any]:
    started = client.post(f"/api/v1/collections/{collection}/import", params=params, content=body)
    assert started.status_code == 202, started.text
    return _finished(client, started.json()["id"])


def _report(client: TestClient[Litestar], job: dict[str, Any]) -> list[dict[str, Any]]:
    reply = client.get(f"/api/v1/jobs/{job['id']}/file")
    assert reply.status_code == 200, reply.text
    return [{**row, "row": int(row["row"])} for row in csv.DictReader(io.StringIO(reply.text))]


def _fields_only(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in SYSTEM}


def _all(client: TestClient[Litestar], collection: str) -> list[dict[str, Any]]:
    return list(
        client.get(f"/api/v1/collections/{collection}/records", params={"sort": "id", "limit": 1000}).json()["items"]
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_into_an_empty_copy_keeps_every_value_of_every_field_type(
    client: TestClient[Litestar], fmt: str
) -> None:
    made = _records(client)
    schema = client.get("/api/v1/collections/sites").json()
    copy = {"name": "copies", "fields": [{k: v for k, v in f.items() if k != "id"} for f in schema["fields"]]}
    assert client.post("/api/v1/collections", json=copy).status_code == 201, copy
    _, text = _export(client, {"format": fmt})
    job = _import(client, "copies", text.encode(), format=fmt)
    assert job["state"] == "succeeded", job
    assert (job["result"]["created"], job["result"]["updated"], job["result"]["problems"]) == (3, 0, 0)
    assert [_fields_only(record) for record in _all(client, "copies")] == [_fields_only(record) for record in made]


@pytest.mark.parametrize("mode", ["all_or_nothing", "skip_invalid"])
def test_bad_rows_give_the_exact_report_in_both_modes(client: TestClient[Litestar], mode: str) -> None:
    fields = [
        {"name": "code", "type": "text", "required": True, "unique": True},
        {"name": "visits", "type": "integer"},
        {"name": "active", "type": "boolean"},
        {"name": "opened", "type": "date"},
        {"name": "kind", "type": "select", "options": ["depot", "clinic"]},
    ]
    assert client.post("/api/v1/collections", json={"name": "depots", "fields": fields}).status_code == 201
    job = _import(client, "depots", BAD_CSV.encode(), mode=mode)
    assert _report(client, job) == EXPECTED
    assert job["result"]["problems"] == len(EXPECTED)
    assert job["result"]["rows_with_problems"] == 3
    codes = sorted(record["code"] for record in _all(client, "depots"))
    if mode == "all_or_nothing":
        assert job["state"] == "failed"
        assert job["error"] == "6 problems in the file: nothing was imported (see the report)"
        assert job["message"] == job["error"]  # where the job is listed, it says why it failed
        assert codes == []
    else:
        assert job["state"] == "succeeded"
        assert (job["result"]["created"], job["result"]["updated"]) == (2, 0)
        assert codes == ["OK-1", "OK-3"]
        assert job["message"] == "imported 2 rows (2 created, 0 updated); 3 rows left out (see the report)"
    assert job["result"]["download_name"].startswith("depots-import-problems-")
    assert job["result"]["download_name"].endswith(".csv")


def test_a_row_with_the_id_of_a_record_updates_only_the_fields_the_file_has(client: TestClient[Litestar]) -> None:
    made = _records(client)
    target = next(record for record in made if record["code"] == "C-3")
    lines = [json.dumps({"id": target["id"], "visits": 9}), json.dumps({"code": "D-4", "visits": 1})]
    job = _import(client, "sites", "\n".join(lines).encode(), format="jsonl")
    assert (job["state"], job["result"]["created"], job["result"]["updated"]) == ("succeeded", 1, 1)
    after = client.get(f"/api/v1/collections/sites/records/{target['id']}").json()
    assert (after["visits"], after["code"], after["_version"]) == (9, "C-3", target["_version"])
    assert after["_rev"] != target["_rev"]


def test_a_mapping_renames_columns_and_leaves_the_rest_out(client: TestClient[Litestar]) -> None:
    _records(client)
    body = b"Site code,Visits,Remarks\nM-1,5,ignored\n"
    mapping = json.dumps({"Site code": "code", "Visits": "visits"})
    job = _import(client, "sites", body, mapping=mapping)
    assert job["state"] == "succeeded", job
    found = client.get("/api/v1/collections/sites/records", params={"filter": 'code = "M-1"'}).json()["items"]
    assert [(record["code"], record["visits"]) for record in found] == [("M-1", 5)]


def test_a_mapping_to_an_unknown_field_is_refused_before_the_upload(client: TestClient[Litestar]) -> None:
    _records(client)
    reply = client.post(
        "/api/v1/collections/sites/import", params={"mapping": json.dumps({"a": "nope"})}, content=b"a\n1\n"
    )
    assert reply.status_code == 422
    assert reply.json()["errors"] == [{"field": "mapping", "message": "a -> nope: nope is not a field of sites"}]
    assert client.get("/api/v1/jobs", params={"kind": "import"}).json()["items"] == []


def test_an_upload_past_max_upload_bytes_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    flags = {"data_dir": tmp_path / "data", "allowed_hosts": f"{TEST_HOST},testserver"}
    settings = prepare_data_dir(load_settings(flags, {"OUTPOST_MAX_UPLOAD_BYTES": "2048"})).settings
    with TestClient(create_app(settings), base_url=f"http://{TEST_HOST}") as client:
        client.headers.update(sign_in_first_admin(client))
        notes = {"name": "notes", "fields": [{"name": "t", "type": "text"}]}
        assert client.post("/api/v1/collections", json=notes).status_code == 201
        small = client.post("/api/v1/collections/notes/import", content=b"t\n" + b"x" * 1000 + b"\n")
        assert small.status_code == 202
        big = client.post("/api/v1/collections/notes/import", content=b"t\n" + b"x" * 5000 + b"\n")
        assert big.status_code == 413
        assert len(list(settings.paths.imports.iterdir())) <= 1  # the small one's upload, or none once imported


@pytest.mark.parametrize("mode", ["all_or_nothing", "skip_invalid"])
def test_a_file_in_a_legacy_encoding_is_refused_whole_naming_the_line(client: TestClient[Litestar], mode: str) -> None:
    fields = [{"name": "name", "type": "text"}]
    assert client.post("/api/v1/collections", json={"name": "towns", "fields": fields}).status_code == 201
    latin1 = "name\nAarhus\nBr\u00f8ndby\nOslo\n".encode("latin-1")  # a sheet saved as "CSV" by older Excel
    job = _import(client, "towns", latin1, mode=mode)
    assert job["state"] == "failed"
    assert job["error"].startswith("the file is not UTF-8 text (line 3, column 3)")
    assert "nothing was imported" in job["error"]
    assert _all(client, "towns") == []  # not even the rows before it
