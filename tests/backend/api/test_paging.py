"""One paging contract for every list: ?limit=, an opaque signed ?cursor=, {"items": [...], "next_cursor": ...}."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.db.paging import MAX_CURSOR_LENGTH, NOT_OURS, CursorCodec
from backend.errors import BadRequest, OutpostError
from tests.conftest import TEST_HOST, sign_in_first_admin

PASSWORD = "correct horse battery staple 7"
LISTS = ["/api/v1/users", "/api/v1/api-keys", "/api/v1/roles", "/api/v1/audit"]


def _refused(call: Any) -> OutpostError:
    with pytest.raises(BadRequest) as caught:
        call()
    assert caught.value.detail == NOT_OURS
    return caught.value


def test_a_cursor_round_trips_its_sort_values() -> None:
    codec = CursorCodec(b"k" * 32)
    values = ["b@example.org", 7, True, datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)]
    assert codec.decode("users", codec.encode("users", values), 4) == values


def test_a_cursor_is_refused_by_another_list_another_instance_or_when_edited() -> None:
    codec = CursorCodec(b"k" * 32)
    cursor = codec.encode("users", ["b@example.org", "id"])
    _refused(lambda: codec.decode("audit", cursor, 2))
    _refused(lambda: CursorCodec(b"x" * 32).decode("users", cursor, 2))
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1
    _refused(lambda: codec.decode("users", base64.urlsafe_b64encode(bytes(raw)).decode(), 2))
    _refused(lambda: codec.decode("users", cursor, 3))


@pytest.mark.parametrize(
    "cursor", ["", "!!", "A" * (MAX_CURSOR_LENGTH + 1), base64.urlsafe_b64encode(b"a:99999999999999999999999").decode()]
)
def test_a_made_up_cursor_is_refused(cursor: str) -> None:
    _refused(lambda: CursorCodec(b"k" * 32).decode("audit", cursor, 1))


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    """An instance with five of everything a list shows (users, keys, custom roles, audit events)."""
    from backend.app import create_app
    from backend.settings import load_settings
    from backend.startup import prepare_data_dir

    data_dir = tmp_path_factory.mktemp("paging") / "data"
    settings = load_settings({"data_dir": data_dir, "allowed_hosts": TEST_HOST, "rate_limit_per_minute": 10**6}, {})
    with TestClient(create_app(prepare_data_dir(settings).settings), base_url=f"http://{TEST_HOST}") as client:
        client.headers.update(sign_in_first_admin(client))
        for number in range(5):
            created = client.post("/api/v1/users", json={"email": f"u{number}@example.org", "password": PASSWORD})
            assert created.status_code == 201, created.text
            created = client.post("/api/v1/api-keys", json={"name": f"key {number}", "scopes": ["users:read"]})
            assert created.status_code == 201, created.text
            created = client.post("/api/v1/roles", json={"name": f"role-{number}", "permissions": []})
            assert created.status_code == 201, created.text
        yield client


def _walk(client: TestClient[Litestar], path: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    for pages in range(1, 100):
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) >= {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        seen += page["items"]
        if page["next_cursor"] is None:
            return seen, pages
        assert page["items"], "a page with a next cursor is never empty"
        params["cursor"] = page["next_cursor"]
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize("path", LISTS)
def test_every_list_pages_by_cursor_visiting_each_item_once_in_order(crowded: TestClient[Litestar], path: str) -> None:
    everything = crowded.get(path, params={"limit": 1000}).json()
    assert everything["next_cursor"] is None
    assert len(everything["items"]) >= 5
    seen, pages = _walk(crowded, path, limit=2)
    assert seen == everything["items"]
    assert pages == (len(seen) + 1) // 2


@pytest.mark.parametrize("path", LISTS)
def test_every_list_takes_one_to_a_thousand_a_page(crowded: TestClient[Litestar], path: str) -> None:
    assert crowded.get(path, params={"limit": 1001}).status_code == 422
    assert crowded.get(path, params={"limit": 0}).status_code == 422
    assert len(crowded.get(path, params={"limit": 1}).json()["items"]) == 1


@pytest.mark.parametrize("path", LISTS)
def test_every_list_refuses_a_cursor_of_another_list(crowded: TestClient[Litestar], path: str) -> None:
    other = LISTS[(LISTS.index(path) + 1) % len(LISTS)]
    cursor = crowded.get(other, params={"limit": 1}).json()["next_cursor"]
    response = crowded.get(path, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == NOT_OURS
