"""POST /api/v1/batch: in order, all or nothing, one audit entry, permission per operation."""

from __future__ import annotations

from tests.backend.auth.helpers import Instance, assert_problem
from tests.backend.records.test_records_api import SITES, changes, create

BATCH = "/api/v1/batch"


def test_a_batch_runs_in_order_across_collections_and_is_audited_once(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    operations = [
        {"method": "POST", "collection": "sites", "body": {"code": "B2"}},
        {"method": "POST", "collection": "inspections", "body": {"site": site["id"], "rating": 4}},
        {"method": "PATCH", "collection": "sites", "id": site["id"], "body": {"visits": 5}},
        {"method": "PUT", "collection": "sites", "id": site["id"], "body": {"code": "A1", "kind": "depot"}},
        {"method": "DELETE", "collection": "sites", "id": site["id"], "if_match": None},
    ]
    reply = records.client.post(BATCH, json={"operations": operations}, headers=records.admin)
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [one["status"] for one in results] == [201, 201, 200, 200, 204]
    assert results[2]["body"]["visits"] == 5
    assert results[3]["body"]["visits"] is None
    assert results[4]["body"] is None
    # the cascade took the new inspection with the site
    assert records.client.get("/api/v1/collections/inspections/records", headers=records.admin).json()["items"] == []
    [entry] = records.audit_rows("records.batch")
    assert entry["details"]["operations"] == 5
    assert entry["details"]["collections"] == ["inspections", "sites"]


def test_the_schema_documents_the_200_a_batch_answers(records: Instance) -> None:
    # Litestar documents a POST's success as 201 unless told: schemathesis over HTTP found the 200 undocumented.
    operation = records.client.get("/schema/openapi.json").json()["paths"][BATCH]["post"]
    assert "200" in operation["responses"]
    assert "201" not in operation["responses"]


def test_a_failing_operation_rolls_back_every_row_change_and_audit_entry(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    changes_before = records.sql("SELECT count(*) FROM test_changes")
    operations = [
        {"method": "POST", "collection": "sites", "body": {"code": "B2"}},
        {"method": "PATCH", "collection": "sites", "id": site["id"], "body": {"visits": 5}},
        {"method": "POST", "collection": "sites", "body": {"code": "C3", "visits": -1}},
    ]
    problem = assert_problem(records.client.post(BATCH, json={"operations": operations}, headers=records.admin), 422)
    assert problem["operation"] == 2
    assert problem["errors"] == [{"field": "operations[2].visits", "message": "must be at least 0"}]
    assert "Operation 2" in problem["detail"]
    assert records.sql("SELECT code, visits FROM c_sites") == [("A1", None)]
    assert records.sql("SELECT count(*) FROM test_changes") == changes_before
    assert records.audit_rows("records.batch") == []


def test_stale_if_match_unique_clash_and_missing_record_name_their_operation(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    cases = [
        ({"method": "PATCH", "collection": "sites", "id": site["id"], "body": {}, "if_match": '"old"'}, 412),
        ({"method": "POST", "collection": "sites", "body": {"code": "A1"}}, 409),
        ({"method": "DELETE", "collection": "sites", "id": "0190f5a0-0000-7000-8000-000000000009"}, 404),
        ({"method": "POST", "collection": "nowhere", "body": {}}, 404),
        ({"method": "PATCH", "collection": "sites", "body": {}}, 422),  # no id
    ]
    for operation, status in cases:
        operations = [{"method": "POST", "collection": "people", "body": {"name": "Ada"}}, operation]
        problem = assert_problem(
            records.client.post(BATCH, json={"operations": operations}, headers=records.admin), status
        )
        assert problem["operation"] == 1
    assert records.sql("SELECT count(*) FROM c_people") == [(0,)]


def test_each_operation_needs_write_permission_on_its_collection(records: Instance) -> None:
    key = records.create_api_key(records.admin, ["records:write:sites", "records:read:sites"])["key"]
    headers = {"X-API-Key": key}
    allowed = [{"method": "POST", "collection": "sites", "body": {"code": "A1"}}]
    assert records.client.post(BATCH, json={"operations": allowed}, headers=headers).status_code == 200
    mixed = [
        *allowed[:0],
        {"method": "POST", "collection": "sites", "body": {"code": "B2"}},
        {"method": "POST", "collection": "people", "body": {"name": "Ada"}},
    ]
    problem = assert_problem(records.client.post(BATCH, json={"operations": mixed}, headers=headers), 403)
    assert problem["operation"] == 1
    assert "records:write:people" in problem["detail"]
    assert records.sql("SELECT code FROM c_sites") == [("A1",)]


def test_an_api_key_scoped_to_one_collection_reads_and_writes_only_it(records: Instance) -> None:
    key = records.create_api_key(records.admin, ["records:read:sites", "records:write:sites"])["key"]
    headers = {"X-API-Key": key}
    made = records.client.post(SITES, json={"code": "A1"}, headers=headers)
    assert made.status_code == 201
    assert records.client.get(SITES, headers=headers).json()["items"] == [made.json()]
    patched = records.client.patch(f"{SITES}/{made.json()['id']}", json={"visits": 2}, headers=headers)
    assert patched.status_code == 200
    people = "/api/v1/collections/people/records"
    assert_problem(records.client.get(people, headers=headers), 403)
    assert_problem(records.client.post(people, json={"name": "Ada"}, headers=headers), 403)
    reader = records.create_api_key(records.admin, ["records:read:sites"])["key"]
    assert_problem(records.client.post(SITES, json={"code": "B2"}, headers={"X-API-Key": reader}), 403)
    assert records.client.get(SITES, headers={"X-API-Key": reader}).status_code == 200


def test_a_batch_with_an_idempotency_key_is_replayed(records: Instance) -> None:
    headers = {**records.admin, "Idempotency-Key": "batch-1"}
    operations = [{"method": "POST", "collection": "sites", "body": {"code": "A1"}}]
    first = records.client.post(BATCH, json={"operations": operations}, headers=headers)
    again = records.client.post(BATCH, json={"operations": operations}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert records.sql("SELECT count(*) FROM c_sites") == [(1,)]
    assert len(records.audit_rows("records.batch")) == 1


def test_a_run_of_creates_is_written_at_once_in_order_with_a_change_each(records: Instance) -> None:
    site = create(records, {"code": "S0"})
    operations = [
        *({"method": "POST", "collection": "sites", "body": {"code": f"S{n}", "visits": n}} for n in range(1, 6)),
        *({"method": "POST", "collection": "inspections", "body": {"site": site["id"], "rating": n}} for n in range(3)),
    ]
    reply = records.client.post(BATCH, json={"operations": operations}, headers=records.admin)
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [one["body"].get("code") for one in results[:5]] == ["S1", "S2", "S3", "S4", "S5"]
    assert [one["body"]["rating"] for one in results[5:]] == [0, 1, 2]
    for one in results:
        got = records.client.get(
            f"/api/v1/collections/{'sites' if 'code' in one['body'] else 'inspections'}/records/{one['body']['id']}",
            headers=records.admin,
        )
        assert got.json() == one["body"]
    logged = changes(records)[1:]
    assert [(record_id, op) for record_id, op, _, _ in logged] == [(one["body"]["id"], "insert") for one in results]


def test_a_fault_inside_a_run_of_creates_names_its_operation_and_leaves_nothing(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    gone = create(records, {"code": "G1"})
    assert records.client.delete(f"{SITES}/{gone['id']}", headers=records.admin).status_code == 204
    changes_before = records.sql("SELECT count(*) FROM test_changes")
    runs = {
        # the third create clashes with A1 on the unique code
        2: ([{"code": "B1"}, {"code": "B2"}, {"code": "A1"}, {"code": "B3"}], "sites", 409),
        # the second inspection names a deleted site
        1: ([{"site": site["id"]}, {"site": gone["id"]}, {"site": site["id"]}], "inspections", 422),
    }
    for at, (bodies, collection, status) in runs.items():
        operations = [{"method": "POST", "collection": collection, "body": body} for body in bodies]
        problem = assert_problem(
            records.client.post(BATCH, json={"operations": operations}, headers=records.admin), status
        )
        assert problem["operation"] == at
    assert records.sql("SELECT code FROM c_sites ORDER BY code") == [("A1",), ("G1",)]
    assert records.sql("SELECT count(*) FROM c_inspections") == [(0,)]
    assert records.sql("SELECT count(*) FROM test_changes") == changes_before
