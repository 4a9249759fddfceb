"""Who may do what: each built-in role, a custom role and no role against the API; custom roles; the last admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.backend.auth.helpers import Instance, Person, assert_problem, bearer, field_errors

PERSONAS = ("admin", "editor", "viewer", "auditor", "nobody")


@dataclass(frozen=True)
class Operation:
    """An API call, the personas allowed it, and the status they get."""

    method: str
    path: str
    allowed: frozenset[str]
    ok: int = 200
    body: Callable[[str], dict[str, Any]] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


OPERATIONS = [
    Operation("GET", "/api/v1/users", frozenset({"admin"})),
    Operation(
        "POST",
        "/api/v1/users",
        frozenset({"admin"}),
        201,
        lambda who: {"email": f"made-by-{who}@example.org", "password": "correct horse battery staple 7"},
    ),
    Operation("GET", "/api/v1/roles", frozenset({"admin"})),
    Operation("GET", "/api/v1/roles/viewer", frozenset({"admin"})),
    Operation("POST", "/api/v1/roles", frozenset({"admin"}), 201, lambda who: {"name": f"by-{who}", "permissions": []}),
    Operation("GET", "/api/v1/audit", frozenset({"admin", "auditor"})),
    Operation("GET", "/api/v1/settings", frozenset({"admin"})),
    Operation("PATCH", "/api/v1/settings", frozenset({"admin"}), 200, lambda who: {"log_level": "INFO"}),
    Operation("GET", "/api/v1/system", frozenset({"admin", "editor", "viewer"})),
    Operation("GET", "/api/v1/api-keys", frozenset({"admin", "editor"})),
    Operation(
        "POST",
        "/api/v1/api-keys",
        frozenset({"admin", "editor"}),
        201,
        lambda who: {"name": f"{who}'s key", "scopes": ["system:read"]},
    ),
    Operation("GET", "/api/v1/auth/me", frozenset(PERSONAS)),
]


@pytest.fixture(scope="module")
def people(shared: Instance) -> dict[str, Person]:
    """One signed-in person per persona; "auditor" is a custom role holding only audit:read."""
    created = shared.client.post(
        "/api/v1/roles", json={"name": "auditor", "permissions": ["audit:read"]}, headers=shared.admin
    )
    assert created.status_code == 201, created.text
    roles = {"admin": ["admin"], "editor": ["editor"], "viewer": ["viewer"], "auditor": ["auditor"], "nobody": []}
    return {who: shared.sign_in(f"as-{who}@example.org", roles[who]) for who in PERSONAS}


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@pytest.mark.parametrize("who", PERSONAS)
def test_role_matrix(shared: Instance, people: dict[str, Person], who: str, operation: Operation) -> None:
    person = people[who]
    body = operation.body(who) if operation.body else None
    response = shared.client.request(operation.method, operation.path, json=body, headers=person.headers)
    if who in operation.allowed:
        assert response.status_code == operation.ok, response.text
        return
    problem = assert_problem(response, 403)
    assert "permission" in problem["detail"]
    # Every refusal is audited, naming who, what and why.
    [(action, outcome, actor_type, actor, target, details)] = shared.sql(
        "SELECT action, outcome, actor_type, actor_label, target, details FROM audit_events ORDER BY id DESC LIMIT 1"
    )
    assert (action, outcome, actor_type, actor) == ("access.denied", "denied", "user", person.email)
    assert target == f"{operation.method} {operation.path}"
    assert "needs the permission" in details


def test_me_lists_each_personas_roles_and_permissions(shared: Instance, people: dict[str, Person]) -> None:
    seen = {who: shared.me(people[who].headers).json() for who in PERSONAS}
    assert {who: me["roles"] for who, me in seen.items()} == {
        "admin": ["admin"],
        "editor": ["editor"],
        "viewer": ["viewer"],
        "auditor": ["auditor"],
        "nobody": [],
    }
    assert seen["admin"]["permissions"] == ["*"]
    assert seen["auditor"]["permissions"] == ["audit:read"]
    assert seen["nobody"]["permissions"] == []
    assert {"records:write", "api_keys:write"} <= set(seen["editor"]["permissions"])
    assert "records:write" not in seen["viewer"]["permissions"]


def test_custom_role_changes_reach_its_holders_on_their_next_request(fresh: Instance) -> None:
    created = fresh.client.post(
        "/api/v1/roles",
        json={"name": "auditor", "permissions": ["audit:read"], "description": "reads the log"},
        headers=fresh.admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["builtin"] is False
    holder = fresh.sign_in("holder@example.org", ["auditor"])
    assert fresh.client.get("/api/v1/audit", headers=holder.headers).status_code == 200
    assert fresh.client.get("/api/v1/users", headers=holder.headers).status_code == 403

    widened = fresh.client.patch(
        "/api/v1/roles/auditor", json={"permissions": ["audit:read", "users:read"]}, headers=fresh.admin
    )
    assert widened.status_code == 200, widened.text
    assert widened.json()["users"] == 1
    assert fresh.client.get("/api/v1/users", headers=holder.headers).status_code == 200  # same token, new rights

    assert fresh.client.delete("/api/v1/roles/auditor", headers=fresh.admin).status_code == 204
    assert fresh.client.get("/api/v1/audit", headers=holder.headers).status_code == 403
    assert fresh.me(holder.headers).json()["roles"] == []
    assert fresh.client.get("/api/v1/roles/auditor", headers=fresh.admin).status_code == 404
    assert [row["action"] for row in fresh.audit_rows("role.update")] == ["role.update"]
    assert [row["target"] for row in fresh.audit_rows("role.delete")] == ["role:auditor"]


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
@pytest.mark.parametrize(
    ("method", "body"),
    [("PATCH", {"permissions": ["audit:read"]}), ("PATCH", {"description": "mine now"}), ("DELETE", None)],
    ids=["patch-permissions", "patch-description", "delete"],
)
def test_built_in_roles_cannot_be_changed_or_deleted(
    shared: Instance, role: str, method: str, body: dict[str, Any] | None
) -> None:
    before = shared.client.get(f"/api/v1/roles/{role}", headers=shared.admin).json()
    response = shared.client.request(method, f"/api/v1/roles/{role}", json=body, headers=shared.admin)
    assert_problem(response, 409)
    assert shared.client.get(f"/api/v1/roles/{role}", headers=shared.admin).json() == before


@pytest.fixture(scope="module")
def custom_role(shared: Instance) -> str:
    """A custom role of the shared instance that refused changes must leave alone."""
    created = shared.client.post(
        "/api/v1/roles", json={"name": "custom", "permissions": ["audit:read"]}, headers=shared.admin
    )
    assert created.status_code == 201, created.text
    return "custom"


@pytest.mark.parametrize(
    "permission",
    ["users:fly", "nonsense", "audit:read:x", "records:read:Bad", "USERS:READ", "users:read "],
    ids=["unknown-action", "no-colon", "collection-on-audit", "bad-collection", "upper-case", "trailing-space"],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unknown_permission_in_a_role_is_422(shared: Instance, custom_role: str, permission: str, method: str) -> None:
    if method == "POST":
        response = shared.client.post(
            "/api/v1/roles", json={"name": "other", "permissions": [permission]}, headers=shared.admin
        )
    else:
        response = shared.client.patch(
            f"/api/v1/roles/{custom_role}", json={"permissions": [permission]}, headers=shared.admin
        )
    assert field_errors(assert_problem(response, 422)) == {"permissions"}
    assert shared.client.get("/api/v1/roles/other", headers=shared.admin).status_code == 404
    assert shared.client.get(f"/api/v1/roles/{custom_role}", headers=shared.admin).json()["permissions"] == [
        "audit:read"
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [("Bad Name", 422), ("x", 422), ("admin", 409), ("9lives", 422)],
    ids=["space-and-capitals", "too-short", "taken-by-built-in", "starts-with-digit"],
)
def test_role_names_are_checked(shared: Instance, name: str, status: int) -> None:
    response = shared.client.post("/api/v1/roles", json={"name": name, "permissions": []}, headers=shared.admin)
    assert field_errors(assert_problem(response, status)) == {"name"}


def test_unknown_role_given_to_a_user_is_422(shared: Instance) -> None:
    response = shared.client.patch(f"/api/v1/users/{shared.admin_id}", json={"roles": ["wizard"]}, headers=shared.admin)
    assert field_errors(assert_problem(response, 422)) == {"roles"}
    assert shared.me(shared.admin).json()["roles"] == ["admin"]


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"roles": []}, {"roles": ["editor"]}], ids=["disable", "no-roles", "demote"]
)
def test_the_last_active_admin_cannot_be_disabled_or_demoted(fresh: Instance, change: dict[str, Any]) -> None:
    session = fresh.login("admin@example.org", "a long test passphrase 42")
    response = fresh.client.patch(f"/api/v1/users/{fresh.admin_id}", json=change, headers=fresh.admin)
    assert_problem(response, 409)
    me = fresh.me(fresh.admin).json()
    assert me["roles"] == ["admin"]
    # The refused change was rolled back whole: the admin's sessions were not ended either.
    assert fresh.refresh(session["refresh_token"]).status_code == 200


def test_an_admin_can_be_disabled_while_another_remains(fresh: Instance) -> None:
    other = fresh.sign_in("second-admin@example.org", ["admin"])
    disabled = fresh.client.patch(f"/api/v1/users/{fresh.admin_id}", json={"is_active": False}, headers=other.headers)
    assert disabled.status_code == 200, disabled.text
    assert fresh.me(fresh.admin).status_code == 401
    # Now the other one is the last.
    assert_problem(fresh.client.patch(f"/api/v1/users/{other.id}", json={"roles": []}, headers=other.headers), 409)


@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
def test_a_custom_wildcard_role_cannot_take_away_the_last_admin(fresh: Instance, method: str) -> None:
    assert fresh.client.post(
        "/api/v1/roles", json={"name": "root", "permissions": ["*"]}, headers=fresh.admin
    ).is_success
    root = fresh.sign_in("root@example.org", ["root"])
    # The first admin steps down, allowed since root@ still holds * through the custom role.
    assert fresh.client.patch(f"/api/v1/users/{fresh.admin_id}", json={"roles": []}, headers=fresh.admin).is_success
    body = {"permissions": ["audit:read"]} if method == "PATCH" else None
    response = fresh.client.request(method, "/api/v1/roles/root", json=body, headers=root.headers)
    assert response.status_code == 409, "the change left no active administrator"


def test_roles_write_does_not_let_one_grant_more_than_one_holds(fresh: Instance) -> None:
    assert fresh.client.post(
        "/api/v1/roles", json={"name": "role-keeper", "permissions": ["roles:read", "roles:write"]}, headers=fresh.admin
    ).is_success
    keeper = fresh.sign_in("keeper@example.org", ["role-keeper"])
    escalation = fresh.client.patch("/api/v1/roles/role-keeper", json={"permissions": ["*"]}, headers=keeper.headers)
    assert escalation.status_code in (403, 422), escalation.text
    assert fresh.me(keeper.headers).json()["permissions"] == ["roles:read", "roles:write"]


def test_tokens_do_not_carry_permissions_so_a_role_change_applies_at_once(fresh: Instance) -> None:
    person = fresh.sign_in("promoted@example.org", ["viewer"])
    assert fresh.client.get("/api/v1/users", headers=person.headers).status_code == 403
    fresh.client.patch(f"/api/v1/users/{person.id}", json={"roles": ["admin"]}, headers=fresh.admin)
    assert fresh.client.get("/api/v1/users", headers=person.headers).status_code == 200
    fresh.client.patch(f"/api/v1/users/{person.id}", json={"roles": ["viewer"]}, headers=fresh.admin)
    assert fresh.client.get("/api/v1/users", headers=bearer(person.access_token)).status_code == 403
