"""Lists: sort with duplicates and NULLs, keyset cursors visiting every row once (also under inserts), offset,
count, projection, tombstones never listed."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.backend.auth.helpers import Instance, assert_problem, field_errors
from tests.backend.records.test_records_api import SITES, create

SORTS = ["visits", "-visits", "visits,-score", "-score,visits", "kind,-visits,id", "-kind,-id", "opened", "-opened"]


def _seed(records: Instance, count: int, rng: random.Random) -> list[dict[str, Any]]:
    made = []
    for number in range(count):
        body: dict[str, Any] = {"code": f"S{number:04d}"}
        # Few distinct values and many NULLs: ties everywhere.
        if rng.random() < 0.7:
            body["visits"] = rng.randint(0, 3)
        if rng.random() < 0.6:
            body["score"] = rng.choice([0.5, 1.0, 2.5])
        if rng.random() < 0.5:
            body["kind"] = rng.choice(["depot", "clinic"])
        if rng.random() < 0.5:
            body["opened"] = rng.choice(["2020-01-01", "2021-06-30"])
        made.append(create(records, body))
    return made


def _walk(records: Instance, params: dict[str, Any], between: Any = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(1000):
        page = records.client.get(SITES, params=query, headers=records.admin)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["items"]
        if body["next_cursor"] is None:
            return seen
        query = {**params, "cursor": body["next_cursor"]}
        if between:
            between()
    raise AssertionError("the walk did not end")


def _key(record: dict[str, Any], name: str) -> tuple[bool, Any]:
    return (record[name] is None, record[name])


def _expected(made: list[dict[str, Any]], sort: str) -> list[str]:
    ordered = sorted(made, key=lambda r: r["id"])
    names = [part for part in sort.split(",")]
    if not any(part.lstrip("-") == "id" for part in names):
        names.append("id")
    for part in reversed(names):
        name = part.lstrip("-")
        valued = [r for r in ordered if r[name] is not None]
        nulls = [r for r in ordered if r[name] is None]
        valued.sort(key=lambda r, n=name: r[n], reverse=part.startswith("-"))
        ordered = valued + nulls  # NULLs last in both directions; stable sorts keep the later keys' order
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("sort", SORTS)
def test_a_walk_by_cursor_visits_every_row_once_in_order_nulls_last(records: Instance, sort: str) -> None:
    made = _seed(records, 37, random.Random(sort))
    seen = _walk(records, {"sort": sort, "limit": 4})
    assert [r["id"] for r in seen] == _expected(made, sort)


def test_a_walk_under_concurrent_inserts_sees_every_earlier_row_exactly_once(records: Instance) -> None:
    rng = random.Random(7)
    made = _seed(records, 30, rng)
    added: list[dict[str, Any]] = []

    def insert_some() -> None:
        for _ in range(2):
            body = {"code": f"N{len(added):04d}", "visits": rng.choice([None, 0, 1, 2, 3])}
            added.append(create(records, body))

    seen = [r["id"] for r in _walk(records, {"sort": "-visits", "limit": 3}, between=insert_some)]
    assert len(seen) == len(set(seen))
    assert {r["id"] for r in made} <= set(seen)
    assert set(seen) <= {r["id"] for r in made + added}


def test_offset_count_limit_and_projection(records: Instance) -> None:
    made = _seed(records, 12, random.Random(3))
    order = _expected(made, "code")
    page = records.client.get(
        SITES,
        params={"sort": "code", "offset": 5, "limit": 4, "count": "true", "fields": "code,visits"},
        headers=records.admin,
    ).json()
    assert [r["id"] for r in page["items"]] == order[5:9]
    assert page["total"] == 12
    assert set(page["items"][0]) == {
        "id",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "_version",
        "_rev",
        "code",
        "visits",
    }
    rest = records.client.get(SITES, params={"sort": "code", "cursor": page["next_cursor"]}, headers=records.admin)
    assert [r["id"] for r in rest.json()["items"]] == order[9:]
    assert "total" not in rest.json()


def test_tombstones_are_never_listed_nor_counted(records: Instance) -> None:
    made = _seed(records, 5, random.Random(1))
    records.client.delete(f"{SITES}/{made[2]['id']}", headers=records.admin)
    page = records.client.get(SITES, params={"count": "true"}, headers=records.admin).json()
    assert [r["id"] for r in page["items"]] == [r["id"] for r in made if r is not made[2]]
    assert page["total"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "nothing"}, "sort"),
        ({"sort": "extra"}, "sort"),  # JSON has no order both engines share
        ({"fields": "code,nothing"}, "fields"),
        ({"offset": 3, "cursor": "x"}, "offset"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    records: Instance, params: dict[str, Any], field: str
) -> None:
    assert field_errors(assert_problem(records.client.get(SITES, params=params, headers=records.admin), 400)) == {field}


def test_a_cursor_of_another_sort_is_refused(records: Instance) -> None:
    _seed(records, 5, random.Random(2))
    cursor = records.client.get(SITES, params={"sort": "visits", "limit": 2}, headers=records.admin).json()[
        "next_cursor"
    ]
    assert_problem(records.client.get(SITES, params={"sort": "-visits", "cursor": cursor}, headers=records.admin), 400)


def test_a_filter_selects_and_counts_and_a_syntax_error_names_its_position(records: Instance) -> None:
    made = _seed(records, 20, random.Random(5))
    expected = [r["id"] for r in made if r["visits"] is not None and r["visits"] >= 2 and r["kind"] == "depot"]
    page = records.client.get(
        SITES, params={"filter": "visits >= 2 && kind = 'depot'", "count": "true"}, headers=records.admin
    ).json()
    assert [r["id"] for r in page["items"]] == expected
    assert page["total"] == len(expected)
    broken = assert_problem(records.client.get(SITES, params={"filter": "visits >= "}, headers=records.admin), 400)
    assert broken["errors"][0]["field"] == "filter"
    assert isinstance(broken["position"], int)
