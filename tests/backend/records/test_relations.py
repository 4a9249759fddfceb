"""On-delete rules of relations, run by the service since a tombstone fires no SQL ON DELETE."""

from __future__ import annotations

import json

from tests.backend.auth.helpers import Instance, assert_problem
from tests.backend.records.test_records_api import SITES, create

PEOPLE = "/api/v1/collections/people/records"
INSPECTIONS = "/api/v1/collections/inspections/records"
PERMITS = "/api/v1/collections/permits/records"


def test_restrict_refuses_with_409_naming_how_many_point_at_it(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    for _ in range(3):
        create(records, {"site": site["id"]}, PERMITS)
    refused = records.client.delete(f"{SITES}/{site['id']}", headers=records.admin)
    problem = assert_problem(refused, 409)
    assert (problem["count"], problem["collection"], problem["field"]) == (3, "permits", "site")
    assert "3 record(s) of permits" in problem["detail"]
    assert records.sql("SELECT _deleted FROM c_sites") == [(0,)]


def test_cascade_tombstones_the_records_pointing_at_it_each_with_its_change(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    other = create(records, {"code": "B2"})
    doomed = [create(records, {"site": site["id"], "rating": n}, INSPECTIONS)["id"] for n in range(2)]
    kept = create(records, {"site": other["id"]}, INSPECTIONS)["id"]
    assert records.client.delete(f"{SITES}/{site['id']}", headers=records.admin).status_code == 204
    listed = records.client.get(INSPECTIONS, headers=records.admin).json()["items"]
    assert [one["id"] for one in listed] == [kept]
    deletes = records.sql("SELECT record_id FROM test_changes WHERE op = 'delete'")
    assert {row[0] for row in deletes} == {site["id"], *doomed}


def test_cascade_stops_at_a_restrict_further_down_and_nothing_is_half_done(records: Instance) -> None:
    site = create(records, {"code": "A1"})
    create(records, {"site": site["id"]}, INSPECTIONS)
    create(records, {"site": site["id"]}, PERMITS)
    assert_problem(records.client.delete(f"{SITES}/{site['id']}", headers=records.admin), 409)
    assert records.sql("SELECT count(*) FROM c_inspections WHERE _deleted") == [(0,)]
    assert records.sql("SELECT count(*) FROM test_changes WHERE op = 'delete'") == [(0,)]


def test_set_null_clears_the_field_and_logs_the_change(records: Instance) -> None:
    person = create(records, {"name": "Ada"}, PEOPLE)
    site = create(records, {"code": "A1", "manager": person["id"]})
    assert records.client.delete(f"{PEOPLE}/{person['id']}", headers=records.admin).status_code == 204
    after = records.client.get(f"{SITES}/{site['id']}", headers=records.admin).json()
    assert after["manager"] is None
    assert after["_rev"] > site["_rev"]
    manager_id = records.client.app.state.records.catalog.definitions["sites"].field_named("manager").id
    [(fields,)] = records.sql("SELECT fields FROM test_changes WHERE record_id = ? AND op = 'update'", (site["id"],))
    assert json.loads(fields) == {manager_id: None}
