"""Every datetime a body carries: a moment that leaves years 1-9999 once in UTC is a 422, never a 500."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.backend.test_request_body import body_routes, concrete

# The body fields holding a datetime, with a valid body around them: a new one must be added here.
DATETIME_FIELDS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("POST", "/api/v1/api-keys", "expires_at"): {"name": "k", "scopes": ["system:read"]},
}

# The edges where converting to UTC overflows: the last moment with offsets west of UTC, the first east of it.
EXTREMES = [
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999-00:01",
    "9999-12-31T20:00:00-12:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+00:01",
]


def datetime_fields(struct: type) -> set[str]:
    """The fields of a body struct whose type admits a datetime (a free-form object, such as a record, has none)."""
    if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
        return set()
    hints = typing.get_type_hints(struct, include_extras=True)
    found = set()
    for field in msgspec.structs.fields(struct):
        text = repr(hints[field.name])
        if "datetime" in text:
            found.add(field.name)
    return found


def test_the_table_lists_every_datetime_in_a_body(client: TestClient[Litestar]) -> None:
    found = set()
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            struct = data.annotation if isinstance(data.annotation, type) else typing.get_args(data.annotation)[0]
            for method in handler.http_methods:
                found |= {(method, route.path_format, name) for name in datetime_fields(struct)}
    assert found == set(DATETIME_FIELDS)
    assert {(m, p) for m, p, _ in DATETIME_FIELDS} <= {(m, p) for m, p, _ in body_routes(client.app)}


@pytest.mark.parametrize("moment", EXTREMES)
@pytest.mark.parametrize(("method", "path", "field"), list(DATETIME_FIELDS))
def test_a_moment_beyond_utc_range_is_422_naming_the_field(
    client: TestClient[Litestar], method: str, path: str, field: str, moment: str
) -> None:
    body = {**DATETIME_FIELDS[(method, path, field)], field: moment}
    response = client.request(method, concrete(path), json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert field in errors
    assert "Traceback" not in response.text


def test_the_latest_moment_in_range_is_still_accepted(client: TestClient[Litestar]) -> None:
    latest = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC).isoformat()
    response = client.post("/api/v1/api-keys", json={"name": "k", "scopes": ["system:read"], "expires_at": latest})
    assert response.status_code == 201, response.text
    assert response.json()["api_key"]["expires_at"].startswith("9999-12-31T23:59:59")
