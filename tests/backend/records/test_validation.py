"""Record validation: every field type, every problem named at once, unknown fields refused, relations checked."""

from __future__ import annotations

import pytest

from tests.backend.auth.helpers import Instance, assert_problem
from tests.backend.records.test_records_api import SITES, create

BAD_VALUES = {
    "code": 12,
    "name": "x",  # shorter than min_length 2
    "visits": 1.5,
    "score": 11,  # over max 10
    "active": "yes",
    "opened": "1999-12-31",  # before min
    "seen": "2026-05-01T09:30:00",  # no zone
    "contact": "not-an-email",
    "homepage": "ftp://example.org",
    "kind": "castle",
    "tags": ["red", "mauve"],
    "manager": "0190f5a0-0000-7000-8000-000000000001",  # no such person
}


def test_every_bad_field_is_named_at_once(records: Instance) -> None:
    response = records.client.post(SITES, json={**BAD_VALUES, "unknown": 1}, headers=records.admin)
    problem = assert_problem(response, 422)
    named = {error["field"]: error["message"] for error in problem["errors"]}
    assert set(named) == {*BAD_VALUES, "unknown"}
    assert "not a field" in named["unknown"]
    assert "no record" in named["manager"]
    assert records.sql("SELECT count(*) FROM c_sites") == [(0,)]
    assert records.sql("SELECT count(*) FROM test_changes") == [(0,)]


GOOD = {
    "code": "A1",
    "name": "Depot",
    "visits": 1000,
    "score": 9.5,
    "active": False,
    "opened": "2000-01-01",
    "seen": "2026-05-01T11:30:00+02:00",
    "contact": "ops@example.org",
    "homepage": "https://example.org/a",
    "kind": "clinic",
    "tags": ["red", "blue"],
    "extra": {"any": ["json", 1, None]},
}


def test_good_values_of_every_type_are_kept_in_their_normal_form(records: Instance) -> None:
    record = create(records, GOOD)
    assert record["seen"] == "2026-05-01T09:30:00Z"
    assert {name: record[name] for name in GOOD if name != "seen"} == {k: v for k, v in GOOD.items() if k != "seen"}
    again = records.client.get(f"{SITES}/{record['id']}", headers=records.admin).json()
    assert again == record


@pytest.mark.parametrize("blank", [None, ""])
def test_a_required_field_must_have_a_value(records: Instance, blank: object) -> None:
    missing = records.client.post(SITES, json={"name": "Depot"}, headers=records.admin)
    assert assert_problem(missing, 422)["errors"] == [{"field": "code", "message": "is required"}]
    record = create(records, {"code": "A1"})
    cleared = records.client.patch(f"{SITES}/{record['id']}", json={"code": blank}, headers=records.admin)
    assert assert_problem(cleared, 422)["errors"] == [{"field": "code", "message": "is required"}]
    # A patch that leaves the required field alone is fine.
    assert records.client.patch(f"{SITES}/{record['id']}", json={"visits": 1}, headers=records.admin).status_code == 200


def test_system_fields_sent_back_are_ignored(records: Instance) -> None:
    record = create(records, {"code": "A1"})
    sent_back = {**record, "visits": 2, "_version": 99, "created_by": "someone else"}
    changed = records.client.put(f"{SITES}/{record['id']}", json=sent_back, headers=records.admin).json()
    assert (changed["visits"], changed["_version"], changed["created_by"]) == (2, 0, record["created_by"])


def test_a_relation_must_point_at_a_live_record(records: Instance) -> None:
    people = "/api/v1/collections/people/records"
    person = create(records, {"name": "Ada"}, people)
    create(records, {"code": "A1", "manager": person["id"]})
    records.client.delete(f"{people}/{person['id']}", headers=records.admin)
    refused = records.client.post(SITES, json={"code": "B2", "manager": person["id"]}, headers=records.admin)
    assert [error["field"] for error in assert_problem(refused, 422)["errors"]] == ["manager"]
    not_an_id = records.client.post(SITES, json={"code": "B2", "manager": "x"}, headers=records.admin)
    assert [error["field"] for error in assert_problem(not_an_id, 422)["errors"]] == ["manager"]


@pytest.mark.parametrize("value", ["123", "1e3", 7, 2.5, True, [1, "2"], {"a": None}, ""])
def test_a_json_value_reads_back_as_it_was_written(records: Instance, value: object) -> None:
    # SQLite gives a JSON column numeric affinity: the text "123" must not come back as a number.
    record = create(records, {**GOOD, "extra": value})
    again = records.client.get(f"{SITES}/{record['id']}", headers=records.admin).json()
    assert again["extra"] == value
    assert type(again["extra"]) is type(value)
    listed = records.client.get(SITES, params={"filter": f'id = "{record["id"]}"'}, headers=records.admin).json()
    assert listed["items"] == [again]
