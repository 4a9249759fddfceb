"""GET /api/v1/permissions: the catalogue, to anyone signed in or holding a key, so a key's scopes can be described."""

from __future__ import annotations

from backend.auth.permissions import CATALOGUE
from tests.backend.auth.helpers import Instance, assert_unauthorized


def test_an_editor_without_roles_read_gets_every_permission_and_what_it_allows(shared: Instance) -> None:
    editor = shared.sign_in("permissions-editor@example.org", ["editor"])
    assert shared.client.get("/api/v1/roles", headers=editor.headers).status_code == 403  # so roles cannot serve it
    response = shared.client.get("/api/v1/permissions", headers=editor.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items == [{"name": name, "description": text} for name, text in CATALOGUE.items()]
    assert all(item["description"] for item in items)


def test_an_api_key_of_any_scope_may_read_it_too(shared: Instance) -> None:
    key = shared.create_api_key(shared.admin, ["system:read"])["key"]
    response = shared.client.get("/api/v1/permissions", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    assert {item["name"] for item in response.json()["items"]} == set(CATALOGUE)


def test_without_credentials_it_is_401(shared: Instance) -> None:
    assert_unauthorized(shared.client.get("/api/v1/permissions"))


def test_the_operation_is_documented(shared: Instance) -> None:
    operation = shared.client.get("/schema/openapi.json").json()["paths"]["/api/v1/permissions"]["get"]
    assert operation["summary"]
    assert {"200", "401"} <= set(operation["responses"])
