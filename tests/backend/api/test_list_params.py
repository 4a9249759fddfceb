"""Hostile values in every list's query parameters: a 400 or 422 problem, never a 500."""

from __future__ import annotations

import base64

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.errors import PROBLEM_JSON


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NUMBERS = ["99999999999999999999999", "-99999999999999999999999", "-1", "0", "NaN", "inf", "1e309", "0x10", "", " 5"]
CURSORS = [
    _b64("a:99999999999999999999999"),
    _b64("a:-99999999999999999999999"),
    _b64("a:-1"),
    _b64("a:NaN"),
    _b64('["audit",[99999999999999999999999]]'),
    "",
    "=",
    "A" * 64,
    "%00",
]
MOMENTS = [
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+23:59",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "NaN",
    "99999999999999999999999",
    "-1",
]
BOOLEANS = ["2", "NaN", "99999999999999999999999", ""]
TEXT = ["\x00", "%", "_", "\\", "' OR 1=1 --", "\u202e"]

PARAMETERS = {
    "/api/v1/users": {"limit": NUMBERS, "cursor": CURSORS, "q": TEXT},
    "/api/v1/api-keys": {"limit": NUMBERS, "cursor": CURSORS, "everyone": BOOLEANS},
    "/api/v1/roles": {"limit": NUMBERS, "cursor": CURSORS},
    "/api/v1/audit": {
        "limit": NUMBERS,
        "cursor": CURSORS,
        "since": MOMENTS,
        "until": MOMENTS,
        "action": TEXT,
        "actor": TEXT,
        "outcome": [*TEXT, "null"],
    },
}
CASES = [
    (path, name, value) for path, names in PARAMETERS.items() for name, values in names.items() for value in values
]


@pytest.fixture(scope="module")
def admin_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient[Litestar]:
    from backend.app import create_app
    from backend.settings import load_settings
    from backend.startup import prepare_data_dir
    from tests.conftest import TEST_HOST, sign_in_first_admin

    data_dir = tmp_path_factory.mktemp("list-params") / "data"
    settings = load_settings({"data_dir": data_dir, "allowed_hosts": TEST_HOST, "rate_limit_per_minute": 10**6}, {})
    with TestClient(create_app(prepare_data_dir(settings).settings), base_url=f"http://{TEST_HOST}") as client:
        client.headers.update(sign_in_first_admin(client))
        yield client


@pytest.mark.parametrize(("path", "name", "value"), CASES, ids=[f"{p}?{n}={v!r}" for p, n, v in CASES])
def test_a_hostile_query_value_is_never_a_server_error(
    admin_client: TestClient[Litestar], path: str, name: str, value: str
) -> None:
    response = admin_client.get(path, params={name: value})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.status_code in {400, 422}


def test_an_overflowing_audit_cursor_is_400_not_one_this_api_gave_out(admin_client: TestClient[Litestar]) -> None:
    response = admin_client.get("/api/v1/audit", params={"cursor": _b64("a:99999999999999999999999")})
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "The cursor is not one this API gave out."
