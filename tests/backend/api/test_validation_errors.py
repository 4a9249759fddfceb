"""A 422 names every field that is wrong, at once and in plain words; an empty body says a body is required."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.errors import PROBLEM_JSON


def _problem(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    errors = response.json()["errors"]
    for error in errors:
        assert "`" not in error["message"], error  # msgspec's wording (Expected `str`, got `int`) is not plain
    return {error["field"]: error["message"] for error in errors}


def _post(client: TestClient[Litestar], path: str, body: bytes) -> Any:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


def test_two_missing_fields_are_both_named(client: TestClient[Litestar]) -> None:
    assert _problem(_post(client, "/api/v1/users", b"{}")) == {
        "email": "is required",
        "password": "is required",
    }


def test_two_wrong_types_are_both_named(client: TestClient[Litestar]) -> None:
    errors = _problem(_post(client, "/api/v1/users", b'{"email": 5, "password": 6}'))
    assert set(errors) == {"email", "password"}
    assert errors["email"] == "must be text"


def test_every_kind_of_mistake_in_one_reply(client: TestClient[Litestar]) -> None:
    body = b'{"name": "", "scopes": ["users:read", 7], "expires_at": "soon", "colour": "red"}'
    errors = _problem(_post(client, "/api/v1/api-keys", body))
    assert set(errors) == {"name", "scopes[1]", "expires_at", "colour"}
    assert errors["name"] == "must be at least 1 characters"
    assert errors["colour"] == "is not a field of this request"


def test_an_empty_body_says_a_json_body_is_required(client: TestClient[Litestar]) -> None:
    assert _problem(_post(client, "/api/v1/users", b"")) == {"body": "a JSON body is required"}


@pytest.mark.parametrize("body", [b"[]", b"null", b"7", b'"text"'])
def test_a_body_that_is_not_an_object_says_so(client: TestClient[Litestar], body: bytes) -> None:
    assert _problem(_post(client, "/api/v1/users", body)) == {"body": "must be a JSON object"}


def test_a_partial_update_names_every_wrong_field(client: TestClient[Litestar]) -> None:
    response = client.patch("/api/v1/roles/admin", json={"permissions": "all", "description": 5})
    assert set(_problem(response)) == {"permissions", "description"}


def test_malformed_json_is_still_400(client: TestClient[Litestar]) -> None:
    response = _post(client, "/api/v1/users", b'{"email": ')
    assert response.status_code == 400, response.text
