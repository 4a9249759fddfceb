"""The audit log: its HMAC chain and anchor catch edits, deletions and cuts; the API filters and pages it."""

from __future__ import annotations

import base64
import functools
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backend.observability.audit import ANCHOR_BYTES, Actor, AuditEntry, VerifyReport
from tests.backend.auth.helpers import PASSWORD, Instance, assert_problem, field_errors

ROWS = 8  # the template's 2 (first admin, sign-in) and 6 role creations


@pytest.fixture
def chain(fresh: Instance) -> Instance:
    """A fresh instance whose audit log holds ROWS rows."""
    for number in range(ROWS - 2):
        created = fresh.client.post(
            "/api/v1/roles", json={"name": f"role-{number}", "permissions": ["audit:read"]}, headers=fresh.admin
        )
        assert created.status_code == 201
    assert fresh.sql("SELECT count(*) FROM audit_events") == [(ROWS,)]
    return fresh


def verify(instance: Instance) -> VerifyReport:
    # As `outpost audit verify` does: users exist, so an empty log would be a wiped one.
    return instance.call(functools.partial(instance.identity.audit.verify, expect_rows=True))


def _forge_anchor(instance: Instance) -> None:
    [(row_hash,)] = instance.sql("SELECT hash FROM audit_events WHERE id = ?", (ROWS - 2,))
    anchor = {"position": ROWS - 2, "hash": row_hash, "mac": "0" * 64}
    instance.settings.paths.audit_anchor.write_text(json.dumps(anchor))


def _append_by_hand(instance: Instance) -> None:
    instance.sql(
        "INSERT INTO audit_events (id, at, actor_type, actor_id, actor_label, action, target, client, request_id,"
        " outcome, details, hash) SELECT id + 1, at, actor_type, actor_id, actor_label, action, target, client,"
        " request_id, outcome, details, hash FROM audit_events WHERE id = ?",
        (ROWS,),
    )


TAMPERING: list[tuple[str, Callable[[Instance], Any], str]] = [
    ("edited-outcome", lambda i: i.sql("UPDATE audit_events SET outcome = 'failure' WHERE id = 4"), "row 4 does not"),
    ("edited-actor", lambda i: i.sql("UPDATE audit_events SET actor_label = 'x@y.z' WHERE id = 1"), "row 1 does not"),
    (
        "edited-details",
        lambda i: i.sql("""UPDATE audit_events SET details = '{"permissions": ["*"]}' WHERE id = 5"""),
        "row 5 does not match its MAC",
    ),
    (
        "edited-time",
        lambda i: i.sql("UPDATE audit_events SET at = '2000-01-01 00:00:00.000000' WHERE id = 6"),
        "row 6 does not match its MAC",
    ),
    (
        "edited-last-row",
        lambda i: i.sql(f"UPDATE audit_events SET target = 'role:other' WHERE id = {ROWS}"),
        f"row {ROWS} does not match its MAC",
    ),
    ("deleted-in-the-middle", lambda i: i.sql("DELETE FROM audit_events WHERE id = 4"), "rows 4..4 are missing"),
    (
        "cut-from-the-end",
        lambda i: i.sql(f"DELETE FROM audit_events WHERE id > {ROWS - 2}"),
        f"the log ends at row {ROWS - 2} but row {ROWS} was written: rows cut from the end",
    ),
    (
        "everything-deleted",
        lambda i: i.sql("DELETE FROM audit_events"),
        f"the log ends at row 0 but row {ROWS} was written",
    ),
    ("forged-anchor", _forge_anchor, "the anchor file is not valid"),
    ("anchor-removed", lambda i: i.settings.paths.audit_anchor.unlink(), "rows exist but no anchor was written"),
    ("anchor-garbled", lambda i: i.settings.paths.audit_anchor.write_text('{"position": 3}'), "anchor file is not"),
    ("row-appended-by-hand", _append_by_hand, f"row {ROWS + 1} does not match its MAC"),
]


def test_an_intact_log_verifies(chain: Instance) -> None:
    report = verify(chain)
    assert report.problems == []
    assert report.ok
    assert (report.rows, report.anchored_position) == (ROWS, ROWS)


@pytest.mark.parametrize(
    ("tamper", "problem"), [(t, p) for _, t, p in TAMPERING], ids=[name for name, _, _ in TAMPERING]
)
def test_tampering_is_caught(chain: Instance, tamper: Callable[[Instance], Any], problem: str) -> None:
    assert verify(chain).ok  # the control: intact before
    tamper(chain)
    report = verify(chain)
    assert not report.ok
    assert any(problem in found for found in report.problems), report.problems


def test_the_anchor_follows_each_new_row(chain: Instance) -> None:
    chain.client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong password 1"})
    anchor = json.loads(chain.settings.paths.audit_anchor.read_text())
    assert anchor["position"] == ROWS + 1
    assert chain.sql("SELECT hash FROM audit_events WHERE id = ?", (ROWS + 1,)) == [(anchor["hash"],)]
    assert verify(chain).ok


def test_the_anchor_is_rewritten_in_place_at_one_size_even_from_an_older_shorter_file(chain: Instance) -> None:
    path = chain.settings.paths.audit_anchor
    path.write_text(path.read_text().strip())  # as versions before the fixed size wrote it
    inode = path.stat().st_ino
    for attempt in range(2):
        chain.client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": f"wrong {attempt}"})
        assert path.stat().st_size == ANCHOR_BYTES
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.stat().st_ino != inode  # the shorter file was replaced whole once; the fixed size is rewritten
    inode = path.stat().st_ino
    chain.client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong again"})
    assert path.stat().st_ino == inode
    assert json.loads(path.read_text())["position"] == ROWS + 3
    assert verify(chain).ok


def test_two_appends_in_one_transaction_follow_each_other(chain: Instance) -> None:
    audit, actor = chain.identity.audit, Actor("system", None, "test")

    async def append_two() -> None:
        async with audit.db.write() as session:
            await audit.append(session, AuditEntry("test.one", actor))
            await audit.append(session, AuditEntry("test.two", actor))

    chain.call(append_two)
    assert chain.sql("SELECT id, action FROM audit_events WHERE id > ?", (ROWS,)) == [
        (ROWS + 1, "test.one"),
        (ROWS + 2, "test.two"),
    ]
    assert verify(chain).ok


# Reading the log through the API.


@pytest.fixture(scope="module")
def events(shared: Instance) -> list[dict[str, Any]]:
    """A known history, newest first as the API gives it."""
    admin = shared.admin
    first = shared.create_user("first@example.org", ["viewer"])
    shared.create_user("second@example.org", ["viewer"])
    shared.client.post("/api/v1/auth/login", json={"email": "first@example.org", "password": "wrong password 1"})
    second = shared.login("second@example.org")
    shared.client.get("/api/v1/users", headers={"Authorization": f"Bearer {second['access_token']}"})  # denied
    shared.client.patch(f"/api/v1/users/{first}", json={"display_name": "First"}, headers=admin)
    for name in ("alpha", "beta", "gamma"):
        shared.client.post("/api/v1/roles", json={"name": name, "permissions": []}, headers=admin)
    items = shared.client.get("/api/v1/audit", params={"limit": 1000}, headers=admin).json()["items"]
    assert len(items) == 11
    return list(items)


def audit(instance: Instance, **params: Any) -> list[dict[str, Any]]:
    response = instance.client.get("/api/v1/audit", params={"limit": 1000, **params}, headers=instance.admin)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


def test_events_come_newest_first_with_their_facts(events: list[dict[str, Any]]) -> None:
    ids = [event["id"] for event in events]
    assert ids == sorted(ids, reverse=True)
    assert ids == list(range(len(ids), 0, -1))
    denial = next(event for event in events if event["action"] == "access.denied")
    assert denial["actor_label"] == "second@example.org"
    assert denial["target"] == "GET /api/v1/users"
    assert denial["client"] == "testclient"
    assert denial["request_id"]
    assert denial["outcome"] == "denied"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("auth.login", {"auth.login"}),
        ("user.", {"user.create", "user.update"}),
        ("auth.", {"auth.login"}),
        ("role.create", {"role.create"}),
        ("user", {"user.create", "user.update"}),
        ("us", {"user.create", "user.update"}),
        ("auth.log", {"auth.login"}),
        ("role.create_", set()),
        ("%", set()),
    ],
    ids=[
        "exact",
        "prefix-user",
        "prefix-auth",
        "exact-role",
        "word-as-typed",
        "partial-word",
        "partial-action",
        "underscore-literal",
        "percent-literal",
    ],
)
def test_filter_by_action(shared: Instance, events: list[dict[str, Any]], action: str, expected: set[str]) -> None:
    found = audit(shared, action=action)
    assert {event["action"] for event in found} == expected
    assert found == [event for event in events if event["action"] in expected]


@pytest.mark.parametrize("outcome", ["success", "failure", "denied"])
def test_filter_by_outcome(shared: Instance, events: list[dict[str, Any]], outcome: str) -> None:
    found = audit(shared, outcome=outcome)
    assert found
    assert found == [event for event in events if event["outcome"] == outcome]


def test_filter_by_an_unknown_outcome_is_422(shared: Instance) -> None:
    response = shared.client.get("/api/v1/audit", params={"outcome": "maybe"}, headers=shared.admin)
    assert_problem(response, 422)


@pytest.mark.parametrize("actor", ["second@", "SECOND@EXAMPLE", "first@example.org"])
def test_filter_by_actor(shared: Instance, events: list[dict[str, Any]], actor: str) -> None:
    found = audit(shared, actor=actor)
    assert found
    assert found == [event for event in events if actor.lower() in event["actor_label"].lower()]


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["at"])


@pytest.mark.parametrize(
    "zone", [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))], ids=["utc", "plus-2", "minus-5"]
)
def test_filter_by_time(shared: Instance, events: list[dict[str, Any]], zone: timezone) -> None:
    middle = _at(events[len(events) // 2])
    moment = middle.astimezone(zone).isoformat()
    since, until = audit(shared, since=moment), audit(shared, until=moment)
    assert since == [event for event in events if _at(event) >= middle]
    assert until == [event for event in events if _at(event) < middle]
    assert since
    assert until
    assert audit(shared, since=moment, until=moment) == []


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-01-01", "2026-01-01T10:00:00", "1700000000", "2026-13-01T00:00:00Z"]
)
@pytest.mark.parametrize("name", ["since", "until"])
def test_a_time_filter_that_is_not_rfc3339_with_a_zone_is_422(shared: Instance, name: str, value: str) -> None:
    response = shared.client.get("/api/v1/audit", params={name: value}, headers=shared.admin)
    assert field_errors(assert_problem(response, 422)) == {name}


def test_cursor_pagination_visits_every_event_once(shared: Instance, events: list[dict[str, Any]]) -> None:
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        page = shared.client.get("/api/v1/audit", params=params, headers=shared.admin).json()
        pages += 1
        assert 1 <= len(page["items"]) <= 2
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        assert pages < 20
    assert seen == events
    assert pages == (len(events) + 1) // 2


def test_cursor_pagination_keeps_the_filter(shared: Instance, events: list[dict[str, Any]]) -> None:
    first = shared.client.get("/api/v1/audit", params={"action": "user.", "limit": 1}, headers=shared.admin).json()
    second = shared.client.get(
        "/api/v1/audit", params={"action": "user.", "limit": 1, "cursor": first["next_cursor"]}, headers=shared.admin
    ).json()
    third = shared.client.get(
        "/api/v1/audit", params={"action": "user.", "limit": 1, "cursor": second["next_cursor"]}, headers=shared.admin
    ).json()
    found = first["items"] + second["items"] + third["items"]
    assert found == [event for event in events if event["action"].startswith("user.")]
    assert third["next_cursor"] is None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["made-up!", _b64("b:5"), _b64("a:five"), _b64("a:"), "%%%", _b64("\xff\xfe")],
    ids=["not-base64", "other-kind", "not-a-number", "no-number", "symbols", "not-utf8"],
)
def test_a_made_up_cursor_is_400(shared: Instance, cursor: str) -> None:
    response = shared.client.get("/api/v1/audit", params={"cursor": cursor}, headers=shared.admin)
    assert assert_problem(response, 400)["type"] == "urn:outpost:problem:bad-request"


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_limit_out_of_range_is_422(shared: Instance, limit: int) -> None:
    assert_problem(shared.client.get("/api/v1/audit", params={"limit": limit}, headers=shared.admin), 422)


def test_reading_the_log_needs_audit_read(shared: Instance) -> None:
    reader = shared.sign_in("reader@example.org", ["viewer"])
    assert_problem(shared.client.get("/api/v1/audit", headers=reader.headers), 403)
    assert PASSWORD not in shared.client.get("/api/v1/audit", params={"limit": 1000}, headers=shared.admin).text


def test_wiping_the_whole_log_and_its_anchor_is_caught(chain: Instance) -> None:
    chain.sql("DELETE FROM audit_events")
    chain.settings.paths.audit_anchor.unlink()
    assert not verify(chain).ok


def test_a_rollback_with_its_own_anchor_verifies_and_the_readme_says_so(chain: Instance, tmp_path: Any) -> None:
    # The local limit of the chain: an older database restored together with its older anchor is a genuine past
    # state, so it verifies. The README must warn of it rather than promise otherwise.
    paths = chain.settings.paths
    old_anchor = paths.audit_anchor.read_bytes()
    with closing(sqlite3.connect(paths.database)) as live, closing(sqlite3.connect(tmp_path / "old.db")) as old:
        live.backup(old)
    chain.client.post("/api/v1/roles", json={"name": "later", "permissions": ["audit:read"]}, headers=chain.admin)
    assert chain.sql("SELECT count(*) FROM audit_events") == [(ROWS + 1,)]
    with closing(sqlite3.connect(tmp_path / "old.db")) as old, closing(sqlite3.connect(paths.database)) as live:
        old.backup(live)
    paths.audit_anchor.write_bytes(old_anchor)
    assert verify(chain).ok
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    assert "restores an older copy of `outpost.db` *together\nwith* the `audit.anchor`" in readme
