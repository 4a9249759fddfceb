"""API keys: shown once, kept as a digest, scoped within their owner's rights, dead when revoked or expired."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.auth import principals
from tests.backend.auth.helpers import (
    Instance,
    Person,
    assert_problem,
    assert_unauthorized,
    bearer,
    db_time,
    field_errors,
)
from tests.waiting import wait_until

KEY_FORMAT = re.compile(r"^(?P<prefix>opk_[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43,})$")


def x_api_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def editor(shared: Instance) -> Person:
    """A person with the editor role (api_keys:read and :write, system:read, records), of this test alone."""
    return shared.sign_in(f"editor-{uuid.uuid4().hex[:8]}@example.org", ["editor"])


def test_the_key_is_shown_once_in_its_documented_form(shared: Instance, editor: Person) -> None:
    created = shared.create_api_key(editor.headers, ["system:read"], name="sync job")
    match = KEY_FORMAT.match(created["key"])
    assert match, created["key"]
    assert created["api_key"]["prefix"] == match["prefix"]
    assert created["api_key"]["name"] == "sync job"
    assert created["api_key"]["owner_email"] == editor.email
    assert created["api_key"]["scopes"] == ["system:read"]
    listed = shared.client.get("/api/v1/api-keys", headers=editor.headers)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["id"] == created["api_key"]["id"]
    assert "key" not in item
    assert match["secret"] not in listed.text
    every = shared.client.get("/api/v1/api-keys", params={"everyone": "true"}, headers=shared.admin)
    assert match["secret"] not in every.text


def test_only_the_sha256_digest_of_the_key_is_stored(shared: Instance, editor: Person) -> None:
    created = shared.create_api_key(editor.headers, ["system:read"])
    key, secret = created["key"], KEY_FORMAT.match(created["key"])["secret"]  # type: ignore[index]
    [row] = shared.sql("SELECT * FROM api_keys WHERE id = ?", (created["api_key"]["id"],))
    assert hashlib.sha256(key.encode()).hexdigest() in row
    for column in row:
        assert secret not in str(column)
    assert not any(secret in str(value) for line in shared.sql("SELECT * FROM audit_events") for value in line)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["users:read"]}, "scopes"),
        ({"scopes": ["*"]}, "scopes"),
        ({"scopes": ["system:read", "audit:read"]}, "scopes"),
        ({"scopes": ["users:fly"]}, "scopes"),
        ({"scopes": ["not a permission"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["system:read"], "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"scopes": ["system:read"], "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
    ],
    ids=[
        "outside-own-permissions",
        "wildcard-without-holding-it",
        "one-of-two-outside",
        "unknown-permission",
        "malformed",
        "none",
        "expiry-in-the-past",
        "expiry-without-zone",
    ],
)
def test_refused_keys_name_the_field(shared: Instance, editor: Person, body: dict[str, Any], field: str) -> None:
    response = shared.client.post("/api/v1/api-keys", json={"name": "k", **body}, headers=editor.headers)
    assert field in field_errors(assert_problem(response, 422))
    assert shared.client.get("/api/v1/api-keys", headers=editor.headers).json()["items"] == []


@pytest.mark.parametrize("send", [x_api_key, bearer], ids=["x-api-key", "authorization-bearer"])
def test_the_key_works_in_either_header(shared: Instance, editor: Person, send: Any) -> None:
    created = shared.create_api_key(editor.headers, ["system:read", "api_keys:read"])
    me = shared.me(send(created["key"]))
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "api_key"
    assert me.json()["user_id"] == editor.id
    assert me.json()["permissions"] == ["api_keys:read", "system:read"]
    assert shared.client.get("/api/v1/system", headers=send(created["key"])).status_code == 200


def test_a_key_can_do_what_its_scopes_say_and_nothing_more(shared: Instance) -> None:
    key = shared.create_api_key(shared.admin, ["system:read"])["key"]
    assert shared.client.get("/api/v1/system", headers=x_api_key(key)).status_code == 200
    assert_problem(shared.client.get("/api/v1/users", headers=x_api_key(key)), 403)
    [denial] = shared.sql(
        "SELECT actor_type, actor_label, outcome FROM audit_events WHERE action = 'access.denied' ORDER BY id DESC"
    )[:1]
    assert denial[0] == "api_key"
    assert denial[2] == "denied"


@pytest.mark.parametrize(
    "presented",
    ["opk_", "opk_deadbeef", "opk_deadbeef_", "opk_deadbeef_" + "A" * 43, "sk_live_whatever"],
    ids=["mark-only", "no-secret", "empty-secret", "unknown-prefix", "foreign"],
)
def test_made_up_keys_are_401(shared: Instance, presented: str) -> None:
    assert_unauthorized(shared.me(x_api_key(presented)))


def test_right_prefix_with_a_wrong_secret_is_401(shared: Instance, editor: Person) -> None:
    key = shared.create_api_key(editor.headers, ["system:read"])["key"]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert_unauthorized(shared.me(x_api_key(forged)))
    assert_unauthorized(shared.me(bearer(forged)))
    assert shared.me(x_api_key(key)).status_code == 200


def test_a_revoked_key_stops_at_once(shared: Instance, editor: Person) -> None:
    created = shared.create_api_key(editor.headers, ["system:read"])
    assert shared.me(x_api_key(created["key"])).status_code == 200
    revoked = shared.client.delete(f"/api/v1/api-keys/{created['api_key']['id']}", headers=editor.headers)
    assert revoked.status_code == 204
    assert_unauthorized(shared.me(x_api_key(created["key"])))
    [item] = shared.client.get("/api/v1/api-keys", headers=editor.headers).json()["items"]
    assert item["revoked_at"] is not None
    assert any(row["target"] == f"api_key:{item['prefix']}" for row in shared.audit_rows("api_key.revoke"))


def test_an_expired_key_is_401(shared: Instance, editor: Person) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = shared.create_api_key(editor.headers, ["system:read"], expires_at=soon)
    assert shared.me(x_api_key(created["key"])).status_code == 200
    past = db_time(datetime.now(UTC) - timedelta(seconds=1))
    shared.change_behind_services("UPDATE api_keys SET expires_at = ? WHERE id = ?", (past, created["api_key"]["id"]))
    assert_unauthorized(shared.me(x_api_key(created["key"])))


def test_a_key_used_before_dies_when_its_time_runs_out_with_nothing_else_changed(
    shared: Instance, editor: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    created = shared.create_api_key(editor.headers, ["system:read"], expires_at=soon.isoformat())
    assert shared.me(x_api_key(created["key"])).status_code == 200  # now the directory knows the key
    later = principals.utc_now() + timedelta(hours=2)
    monkeypatch.setattr(principals, "utc_now", lambda: later)
    assert_unauthorized(shared.me(x_api_key(created["key"])))


def test_a_key_dies_with_its_owners_account(shared: Instance, editor: Person) -> None:
    key = shared.create_api_key(editor.headers, ["system:read"])["key"]
    assert shared.client.patch(f"/api/v1/users/{editor.id}", json={"is_active": False}, headers=shared.admin).is_success
    assert_unauthorized(shared.me(x_api_key(key)))
    assert shared.client.patch(f"/api/v1/users/{editor.id}", json={"is_active": True}, headers=shared.admin).is_success
    assert shared.me(x_api_key(key)).status_code == 200  # not revoked: it works again with its owner


def test_a_key_loses_what_its_owner_loses(shared: Instance, editor: Person) -> None:
    key = shared.create_api_key(editor.headers, ["system:read", "api_keys:read"])["key"]
    assert shared.client.get("/api/v1/api-keys", headers=x_api_key(key)).status_code == 200
    demoted = shared.client.patch(f"/api/v1/users/{editor.id}", json={"roles": ["viewer"]}, headers=shared.admin)
    assert demoted.status_code == 200
    assert_problem(shared.client.get("/api/v1/api-keys", headers=x_api_key(key)), 403)
    assert shared.client.get("/api/v1/system", headers=x_api_key(key)).status_code == 200
    assert shared.me(x_api_key(key)).json()["permissions"] == ["system:read"]


def test_a_wildcard_key_shrinks_when_its_owner_stops_being_admin(shared: Instance) -> None:
    boss = shared.sign_in("boss@example.org", ["admin"])
    key = shared.create_api_key(boss.headers, ["*"])["key"]
    assert shared.client.get("/api/v1/users", headers=x_api_key(key)).status_code == 200
    assert shared.client.patch(f"/api/v1/users/{boss.id}", json={"roles": ["viewer"]}, headers=shared.admin).is_success
    assert_problem(shared.client.get("/api/v1/users", headers=x_api_key(key)), 403)
    assert shared.me(x_api_key(key)).json()["permissions"] == []


def test_a_key_cannot_make_keys_nor_act_as_a_person(shared: Instance) -> None:
    key = shared.create_api_key(shared.admin, ["*"])["key"]
    made = shared.client.post(
        "/api/v1/api-keys", json={"name": "child", "scopes": ["system:read"]}, headers=x_api_key(key)
    )
    assert_problem(made, 403)
    assert_problem(shared.client.post("/api/v1/auth/logout", json={}, headers=x_api_key(key)), 403)
    change = {"current_password": "whatever it is", "new_password": "a brand new passphrase 9"}
    assert_problem(shared.client.post("/api/v1/auth/me/password", json=change, headers=x_api_key(key)), 403)
    assert shared.me(x_api_key(key)).status_code == 200  # refusals do not end the key


def test_a_key_refused_making_a_key_is_audited(shared: Instance) -> None:
    key = shared.create_api_key(shared.admin, ["api_keys:write"])["key"]
    before = len(shared.audit_rows("access.denied"))
    made = shared.client.post(
        "/api/v1/api-keys", json={"name": "child", "scopes": ["api_keys:write"]}, headers=x_api_key(key)
    )
    assert made.status_code == 403
    assert len(shared.audit_rows("access.denied")) == before + 1


def test_last_used_at_is_set_by_use(shared: Instance, editor: Person) -> None:
    created = shared.create_api_key(editor.headers, ["system:read"])
    assert created["api_key"]["last_used_at"] is None
    assert shared.client.get("/api/v1/system", headers=x_api_key(created["key"])).status_code == 200

    def last_used() -> str | None:
        [item] = shared.client.get("/api/v1/api-keys", headers=editor.headers).json()["items"]
        return item["last_used_at"]

    assert wait_until(lambda: last_used() is not None)  # stored off the request's path, just after it
    used = datetime.fromisoformat(str(last_used()))
    assert abs(datetime.now(UTC) - used) < timedelta(minutes=1)


def test_managers_see_and_revoke_everyones_keys_others_only_their_own(shared: Instance, editor: Person) -> None:
    mine = shared.create_api_key(editor.headers, ["system:read"])
    admins = shared.create_api_key(shared.admin, ["system:read"])
    own_only = {k["id"] for k in shared.client.get("/api/v1/api-keys", headers=editor.headers).json()["items"]}
    assert own_only == {mine["api_key"]["id"]}
    # everyone=true without api_keys:manage: refused, not quietly narrowed.
    asked = shared.client.get("/api/v1/api-keys", params={"everyone": "true"}, headers=editor.headers)
    assert "api_keys:manage" in assert_problem(asked, 403)["detail"]
    every = shared.client.get("/api/v1/api-keys", params={"everyone": "true"}, headers=shared.admin).json()
    assert {mine["api_key"]["id"], admins["api_key"]["id"]} <= {k["id"] for k in every["items"]}
    admin_own = shared.client.get("/api/v1/api-keys", headers=shared.admin).json()
    assert mine["api_key"]["id"] not in {k["id"] for k in admin_own["items"]}

    refused = shared.client.delete(f"/api/v1/api-keys/{admins['api_key']['id']}", headers=editor.headers)
    assert_problem(refused, 404)
    assert shared.me(x_api_key(admins["key"])).status_code == 200
    revoked = shared.client.delete(f"/api/v1/api-keys/{mine['api_key']['id']}", headers=shared.admin)
    assert revoked.status_code == 204
    assert_unauthorized(shared.me(x_api_key(mine["key"])))


def test_revoking_an_unknown_key_is_404(shared: Instance) -> None:
    assert_problem(shared.client.delete("/api/v1/api-keys/no-such-key", headers=shared.admin), 404)
