"""Schemathesis against the app's own OpenAPI schema, in-process, every operation, every check, authenticated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig

from backend.app import create_app
from backend.settings import load_settings
from backend.startup import prepare_data_dir
from tests.conftest import sign_in_first_admin

SEEDED = "inspections"
SEEDED_FIELDS = [
    {"name": "site", "type": "text", "constraints": {"max_length": 200}},
    {"name": "score", "type": "integer", "constraints": {"min": 0, "max": 100}},
    {"name": "grade", "type": "select", "options": ["a", "b", "c"]},
    {"name": "passed", "type": "boolean"},
    {"name": "inspected_at", "type": "datetime"},
]
SEEDED_RECORDS = 40  # the fuzzer deletes some (DELETE without If-Match): enough stay for the other operations


def _admin_api_key(client: TestClient[Any]) -> str:
    """An API key of the first administrator with every permission."""
    headers = sign_in_first_admin(client)
    created = client.post("/api/v1/api-keys", headers=headers, json={"name": "schemathesis", "scopes": ["*"]})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def seed_records(client: httpx.Client, key: str) -> list[str]:
    """A collection with a field of each common type and some records in it; the records' ids."""
    headers = {"X-API-Key": key}
    created = client.post("/api/v1/collections", headers=headers, json={"name": SEEDED, "fields": SEEDED_FIELDS})
    assert created.status_code == 201, created.text
    ids = []
    for n in range(SEEDED_RECORDS):
        values = {
            "site": f"site {n % 7}",
            "score": n % 101,
            "grade": "abc"[n % 3],
            "passed": n % 2 == 0,
            "inspected_at": f"2026-11-{1 + n % 28:02d}T08:00:00Z",
        }
        record = client.post(f"/api/v1/collections/{SEEDED}/records", headers=headers, json=values)
        assert record.status_code == 201, record.text
        ids.append(str(record.json()["id"]))
    return ids


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis") / "data"
    # Schemathesis' ASGI client sends Host: testserver. The per-principal limit is raised so that a
    # long run measures conformance, not the limiter (whose 429 is documented and allowed anyway).
    flags = {"data_dir": data_dir, "allowed_hosts": "testserver", "rate_limit_per_minute": 10**6}
    app = create_app(prepare_data_dir(load_settings(flags, {})).settings)
    with TestClient(app, base_url="http://testserver") as client:
        # An API key, not a session: a fuzzed sign-out would end a session and every later request would be
        # 401. So POST /auth/logout and /auth/me/password (a person's operations) answer this key 403.
        key = _admin_api_key(client)
        record_ids = seed_records(client, key)
    config = SchemathesisConfig.from_dict(run_config(key, record_ids))
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config)


def run_config(key: str, record_ids: list[str]) -> dict[str, object]:
    """CONFIG with the API key as the only credential and the seeded collection's names and ids to draw from."""
    # Explicit auth: nothing else (no signed-up Bearer) is sent beside the key, which the API would refuse.
    auth = {"openapi": {"ApiKeyHeader": {"api_key": key}}}
    # Record operations mostly name the seeded collection and its records, so they reach the service
    # rather than stopping at 404; now and then a generated name or id still checks the 404 path.
    dictionaries = {"collections": {"values": [SEEDED]}, "records": {"values": record_ids}}
    return {**CONFIG, "auth": auth, "dictionaries": dictionaries}


CURSOR = "a cursor must be one the API gave out (signed; schema-valid strings are not)"
RECORD = "a record's fields and their rules are the collection's own, checked by the service; idempotency keys"
STALE = "If-Match must name the record's current ETag"
LIST = "sort, fields, expand and filter name the collection's own fields; offset cannot go with a cursor"
BATCH = "each operation is checked as its single request would be (its id, body, fields, If-Match, permission)"
POLICY = "the service checks the password policy (length, not the email, not common) and the email's form"


def refuses(path: str, method: str, *statuses: str, why: str) -> dict[str, object]:
    """An operation that rightly refuses some schema-valid input with these statuses, and why."""
    assert why
    operation: dict[str, object] = {
        "include-name": f"{method} {path}",
        # 413 too: the body limit is a setting (PATCH /settings, itself fuzzed, may lower it to 1 KiB), and a
        # schema-valid body over it is refused before it is read.
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "413", *statuses]}
        },
    }
    if path.startswith("/api/v1/collections/{name}/records"):
        operation["parameters"] = {
            "path.name": {"dictionary": "collections", "probability": 0.9},
            "path.record_id": {"dictionary": "records", "probability": 0.9},
        }
    if path == "/api/v1/batch":  # a batch's operations name them too, so that some reach the record service
        operation["parameters"] = {
            "body.operations[*].collection": {"dictionary": "collections", "probability": 0.9},
            "body.operations[*].id": {"dictionary": "records", "probability": 0.9},
        }
    return operation


# Schema-violating input is refused with these; 413 too: a body over the operation's limit is refused before
# it is parsed (an over-long string makes the body too large before it makes it invalid); and over real HTTP
# 414/431: an over-long query string or header passes the connection layer's limits before any route runs.
NEGATIVE_DATA_STATUSES = [
    *("400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "431", "5xx")
]

# Operations that rightly refuse some schema-valid input, each with its documented status and why.
CONFIG: dict[str, object] = {
    "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_DATA_STATUSES}},
    "operations": [
        # Host names and origins are checked item by item by the service (no spaces, '/', '@', '?', '#';
        # origins start with http(s)://). Litestar drops per-item patterns from the published schema.
        refuses("/api/v1/settings", "PATCH", "422", why="host names and origins are checked item by item"),
        refuses("/api/v1/setup", "POST", "422", why=POLICY),
        refuses("/api/v1/users", "POST", "422", why=POLICY + "; roles must exist"),
        refuses("/api/v1/users/{user_id}", "PATCH", "422", why="the email's form; roles must exist"),
        refuses("/api/v1/users/{user_id}/password", "POST", "422", why=POLICY),
        refuses("/api/v1/auth/me/password", "POST", "422", why=POLICY),
        refuses("/api/v1/roles", "POST", "422", why="role names and permissions are checked against the catalogue"),
        refuses("/api/v1/roles/{name}", "PATCH", "422", why="permissions are checked against the catalogue"),
        refuses("/api/v1/api-keys", "POST", "422", why="scopes must be known permissions; expires_at in the future"),
        refuses(
            "/api/v1/audit",
            "GET",
            "400",
            "422",
            why=CURSOR + "; since/until must fall within the years 1 to 9999 once turned into UTC",
        ),
        refuses("/api/v1/users", "GET", "400", why=CURSOR),
        refuses("/api/v1/roles", "GET", "400", why=CURSOR),
        refuses("/api/v1/api-keys", "GET", "400", why=CURSOR),
        refuses("/api/v1/auth/login", "POST", "429", why="failed sign-ins are throttled per account and client"),
        refuses("/api/v1/collections", "GET", "400", why=CURSOR),
        refuses(
            "/api/v1/collections",
            "POST",
            "422",
            why="fields are checked as a whole: system names, options only on selects, relations to existing "
            "collections, limits that fit the type, defaults that pass the field's rules",
        ),
        refuses(
            "/api/v1/collections/{name}",
            "PATCH",
            "422",
            why="as for POST, and a field id must be one of the collection's fields",
        ),
        refuses("/api/v1/batch", "POST", "400", "412", "422", why=BATCH),
        refuses("/api/v1/jobs", "GET", "400", "422", why=CURSOR + "; state is a comma-separated list of states"),
        refuses(
            "/api/v1/collections/{name}/import",
            "POST",
            "422",
            why="the mapping is a JSON object from column names to fields of the collection",
        ),
        refuses(
            "/api/v1/collections/{name}/export",
            "POST",
            "400",
            why="the filter is in the filter language and names the collection's own fields",
        ),
        refuses("/api/v1/demo", "POST", "409", why="one demo run at a time, and none once its collections exist"),
        refuses("/api/v1/collections/{name}/records", "GET", "400", "422", why=CURSOR + "; " + LIST),
        refuses("/api/v1/collections/{name}/records", "POST", "422", why=RECORD),
        refuses("/api/v1/collections/{name}/records/{record_id}", "GET", "422", why="expand names relation fields"),
        refuses("/api/v1/collections/{name}/records/{record_id}", "PATCH", "412", "422", why=RECORD + "; " + STALE),
        refuses("/api/v1/collections/{name}/records/{record_id}", "PUT", "412", "422", why=RECORD + "; " + STALE),
        refuses("/api/v1/collections/{name}/records/{record_id}", "DELETE", "412", why=STALE),
    ],
}


schema = schemathesis.pytest.from_fixture("api_schema")


# Every operation runs within this one test: the default 300 s is too short for ~30 operations on a loaded machine.
@pytest.mark.timeout(1200)
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Every check on; CONFIG lists the documented refusals of schema-valid input.
    case.call_and_validate()
