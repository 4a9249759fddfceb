"""Records over HTTP: create, read, change, replace, delete as a tombstone; ETags and If-Match; unique fields."""

from __future__ import annotations

import json

from tests.backend.auth.helpers import Instance, assert_problem, field_errors

SITES = "/api/v1/collections/sites/records"


def create(records: Instance, body: dict[str, object], path: str = SITES) -> dict[str, object]:
    response = records.client.post(path, json=body, headers=records.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def changes(records: Instance) -> list[tuple[str, str, dict[str, object], int]]:
    rows = records.sql("SELECT record_id, op, fields, base_version FROM test_changes ORDER BY seq")
    return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]


def test_create_answers_201_with_location_etag_and_the_record(records: Instance) -> None:
    response = records.client.post(SITES, json={"code": "A1", "visits": 3}, headers=records.admin)
    assert response.status_code == 201, response.text
    record = response.json()
    assert response.headers["location"] == f"{SITES}/{record['id']}"
    assert response.headers["etag"] == f'"{record["_rev"]}"'
    assert record["code"] == "A1"
    assert record["visits"] == 3
    assert record["active"] is True  # the default
    assert record["_version"] == 0
    assert record["created_by"] == record["updated_by"]
    got = records.client.get(f"{SITES}/{record['id']}", headers=records.admin)
    assert got.status_code == 200
    assert got.json() == record
    assert got.headers["etag"] == response.headers["etag"]


def test_every_write_appends_its_change_by_field_id_and_moves_the_rev(records: Instance) -> None:
    definition = records.client.app.state.records.catalog.definitions["sites"]
    code_id, visits_id = definition.field_named("code").id, definition.field_named("visits").id
    record = create(records, {"code": "A1", "visits": 3})
    patched = records.client.patch(f"{SITES}/{record['id']}", json={"visits": 4}, headers=records.admin).json()
    assert patched["_rev"] > record["_rev"]
    assert records.client.delete(f"{SITES}/{record['id']}", headers=records.admin).status_code == 204
    logged = changes(records)
    assert [(one[1], one[3]) for one in logged] == [("insert", 0), ("update", 0), ("delete", 0)]
    assert logged[0][2][code_id] == "A1"
    assert logged[1][2] == {visits_id: 4}
    assert logged[2][2] == {}


def test_a_patch_that_changes_nothing_writes_nothing(records: Instance) -> None:
    record = create(records, {"code": "A1", "visits": 3})
    same = records.client.patch(f"{SITES}/{record['id']}", json={"visits": 3}, headers=records.admin).json()
    assert same["_rev"] == record["_rev"]
    assert len(changes(records)) == 1


def test_if_match_lets_the_current_etag_write_and_refuses_a_stale_one_with_412(records: Instance) -> None:
    record = create(records, {"code": "A1"})
    path = f"{SITES}/{record['id']}"
    first = records.client.patch(path, json={"visits": 1}, headers={**records.admin, "If-Match": f'"{record["_rev"]}"'})
    assert first.status_code == 200, first.text
    for method in ("PATCH", "PUT", "DELETE"):
        body = None if method == "DELETE" else {"code": "A1", "visits": 9}
        stale = records.client.request(
            method, path, json=body, headers={**records.admin, "If-Match": f'"{record["_rev"]}"'}
        )
        problem = assert_problem(stale, 412)
        assert stale.headers["etag"] == first.headers["etag"]
        assert problem["etag"] == first.headers["etag"]
    weak = records.client.patch(
        path, json={"visits": 2}, headers={**records.admin, "If-Match": f"W/{first.headers['etag']}"}
    )
    assert_problem(weak, 412)  # If-Match compares strongly
    anything = records.client.patch(path, json={"visits": 2}, headers={**records.admin, "If-Match": "*"})
    assert anything.status_code == 200
    assert records.client.get(path, headers=records.admin).json()["visits"] == 2
    gone = records.client.delete(path, headers={**records.admin, "If-Match": anything.headers["etag"]})
    assert gone.status_code == 204


def test_put_replaces_every_field_taking_defaults_for_those_left_out(records: Instance) -> None:
    record = create(records, {"code": "A1", "visits": 3, "active": False, "kind": "depot"})
    replaced = records.client.put(f"{SITES}/{record['id']}", json={"code": "B2"}, headers=records.admin)
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["code"], body["visits"], body["active"], body["kind"]) == ("B2", None, True, None)
    assert body["created_at"] == record["created_at"]
    wrong_id = records.client.put(f"{SITES}/{record['id']}", json={"id": "x", "code": "B2"}, headers=records.admin)
    assert field_errors(assert_problem(wrong_id, 422)) == {"id"}


def test_delete_leaves_a_tombstone_that_is_never_read_listed_or_changed(records: Instance) -> None:
    record = create(records, {"code": "A1"})
    path = f"{SITES}/{record['id']}"
    assert records.client.delete(path, headers=records.admin).status_code == 204
    assert records.sql("SELECT _deleted FROM c_sites WHERE id = ?", (record["id"],)) == [(1,)]
    assert_problem(records.client.get(path, headers=records.admin), 404)
    assert_problem(records.client.patch(path, json={"visits": 1}, headers=records.admin), 404)
    assert_problem(records.client.delete(path, headers=records.admin), 404)
    assert records.client.get(SITES, headers=records.admin).json()["items"] == []


def test_a_unique_value_is_a_409_naming_the_field_and_a_tombstone_frees_it(records: Instance) -> None:
    first = create(records, {"code": "A1"})
    taken = records.client.post(SITES, json={"code": "A1"}, headers=records.admin)
    assert field_errors(assert_problem(taken, 409)) == {"code"}
    second = create(records, {"code": "B2"})
    clash = records.client.patch(f"{SITES}/{second['id']}", json={"code": "A1"}, headers=records.admin)
    assert field_errors(assert_problem(clash, 409)) == {"code"}
    records.client.delete(f"{SITES}/{first['id']}", headers=records.admin)
    create(records, {"code": "A1"})
    assert len(changes(records)) == 4  # refused writes left no change


def test_a_client_may_choose_the_id_once(records: Instance) -> None:
    chosen = "0190f5a0-0000-7000-8000-000000000001"
    assert create(records, {"id": chosen, "code": "A1"})["id"] == chosen
    again = records.client.post(SITES, json={"id": chosen, "code": "B2"}, headers=records.admin)
    assert field_errors(assert_problem(again, 409)) == {"id"}
    bad = records.client.post(SITES, json={"id": "not-a-uuid", "code": "B2"}, headers=records.admin)
    assert field_errors(assert_problem(bad, 422)) == {"id"}


def test_an_unknown_collection_or_record_is_404(records: Instance) -> None:
    assert_problem(records.client.get("/api/v1/collections/nothing/records", headers=records.admin), 404)
    assert_problem(records.client.post("/api/v1/collections/nothing/records", json={}, headers=records.admin), 404)
    assert_problem(records.client.get(f"{SITES}/0190f5a0-0000-7000-8000-000000000001", headers=records.admin), 404)


def test_expand_includes_the_related_record_one_level(records: Instance) -> None:
    person = create(records, {"name": "Ada"}, "/api/v1/collections/people/records")
    site = create(records, {"code": "A1", "manager": person["id"]})
    create(records, {"code": "B2"})
    got = records.client.get(f"{SITES}/{site['id']}", params={"expand": "manager"}, headers=records.admin).json()
    assert got["expand"]["manager"] == person
    listed = records.client.get(SITES, params={"expand": "manager"}, headers=records.admin).json()["items"]
    assert [one["expand"]["manager"] for one in listed] == [person, None]
    wrong = records.client.get(SITES, params={"expand": "code"}, headers=records.admin)
    assert field_errors(assert_problem(wrong, 422)) == {"expand"}
