"""Hostile request bodies on every route that takes one: nested too deeply, larger than the route's limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from backend.app import BODY_METHODS, create_app
from backend.records.routes import BATCH_BODY_LIMIT, RECORD_BODY_LIMIT
from backend.request_body import MAX_JSON_DEPTH, SMALL_BODY_LIMIT, json_nesting_depth
from backend.settings import Settings, load_settings
from backend.startup import prepare_data_dir
from tests.conftest import TEST_HOST, sign_in_first_admin

PROBLEM_JSON = "application/problem+json"
# Routes whose bodies carry only credentials or tokens: a few KB is plenty.
SMALL_BODY_ROUTES = {
    ("POST", "/api/v1/setup"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/me/password"),
    ("POST", "/api/v1/users/{user_id}/password"),
}
# Routes carrying user data: a record (a JSON field may be large) and a batch of up to 1000 of them.
RECORD = "/api/v1/collections/{name}/records"
LARGE_BODY_ROUTES = {
    ("POST", RECORD): RECORD_BODY_LIMIT,
    ("PATCH", RECORD + "/{record_id}"): RECORD_BODY_LIMIT,
    ("PUT", RECORD + "/{record_id}"): RECORD_BODY_LIMIT,
    ("POST", "/api/v1/batch"): BATCH_BODY_LIMIT,
}


def body_routes(app: Litestar) -> list[tuple[str, str, int]]:
    """Every (method, path, body limit) of the app whose handler takes a JSON body."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            for method in sorted(handler.http_methods & BODY_METHODS):
                found.append((method, route.path_format, handler.resolve_request_max_body_size()))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-thing", path)


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    """One app for the module, its first administrator signed in (every route is reachable)."""
    settings = load_settings(
        {"data_dir": tmp_path_factory.mktemp("body") / "data", "allowed_hosts": f"{TEST_HOST},testserver"}, {}
    )
    with TestClient(create_app(prepare_data_dir(settings).settings), base_url=f"http://{TEST_HOST}") as client:
        client.headers.update(sign_in_first_admin(client))
        yield client


def routes_of_a_fresh_app(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, int]]:
    settings = load_settings({"data_dir": tmp_path_factory.mktemp("routes") / "data"}, {})
    return body_routes(create_app(settings))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "Traceback" not in response.text
    return dict(response.json())


def test_the_app_has_body_routes_and_each_has_a_small_limit(signed_in: TestClient[Litestar]) -> None:
    routes = body_routes(signed_in.app)
    assert len(routes) >= 9  # setup, login, refresh, password x2, users x2, roles x2, api-keys, settings
    for method, path, limit in routes:
        expected = SMALL_BODY_LIMIT if (method, path) in SMALL_BODY_ROUTES else 64 * 1024
        expected = LARGE_BODY_ROUTES.get((method, path), expected)
        assert limit == expected, (method, path, limit)
    assert {(m, p) for m, p, _ in routes} >= SMALL_BODY_ROUTES


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 2000 + b"]" * 2000,
        b'{"email": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
    ],
    ids=["list-2000", "field-5000", "object-3000", "just-over-the-limit"],
)
def test_deeply_nested_json_is_400_on_every_body_route(signed_in: TestClient[Litestar], body: bytes) -> None:
    for method, path, limit in body_routes(signed_in.app):
        if len(body) > limit:
            continue
        response = signed_in.request(method, concrete(path), content=body, headers={"content-type": "application/json"})
        problem = assert_problem(response, 400)
        assert "nested too deeply" in problem["detail"], (method, path, problem)


def test_nesting_within_the_limit_is_judged_as_usual(signed_in: TestClient[Litestar]) -> None:
    body = b'{"email": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b', "password": "x"}'
    assert_problem(
        signed_in.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"}), 422
    )


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[[", "]]]]", "{{{{"]', 1),  # brackets inside strings do not count
        (b'["\\"[[[[", "\\\\", [[]]]', 3),  # nor do escaped quotes end a string early
    ],
)
def test_nesting_depth_ignores_brackets_in_strings(text: bytes, depth: int) -> None:
    assert json_nesting_depth(text) == depth


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# Strings full of brackets, quotes and backslashes: with and without a backslash, the count takes another path.
_TRICKY_TEXT = st.text(alphabet='[]{}"\\ab', max_size=8)
_JSON_VALUES = st.recursive(
    st.none() | st.integers() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_nesting_depth_is_the_depth_of_the_decoded_value(value: Any) -> None:
    assert json_nesting_depth(json.dumps(value, ensure_ascii=False).encode()) == _depth(value)


def test_body_over_the_route_limit_is_413_on_every_body_route(signed_in: TestClient[Litestar]) -> None:
    for method, path, limit in body_routes(signed_in.app):
        body = b'{"name": "' + b"x" * limit + b'"}'
        problem = assert_problem(
            signed_in.request(method, concrete(path), content=body, headers={"content-type": "application/json"}),
            413,
        )
        assert problem["type"] == "urn:outpost:problem:payload-too-large"
        assert str(limit) in problem["detail"], problem


def test_streamed_body_over_the_route_limit_is_413(signed_in: TestClient[Litestar]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(SMALL_BODY_LIMIT // 1024 + 1):
            yield b"x" * 1024

    response = signed_in.post("/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413)


def test_max_body_bytes_stays_the_ceiling(settings: Settings) -> None:
    from dataclasses import replace

    small = replace(prepare_data_dir(settings).settings, max_body_bytes=2048)
    routes = body_routes(create_app(small))
    assert routes
    assert all(limit <= 2048 for _, _, limit in routes)
