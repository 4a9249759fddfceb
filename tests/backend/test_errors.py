"""Every error reply is problem+json with type, title, status, detail, request id; no traceback."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.settings import Settings
from tests.conftest import sign_in_first_admin

PROBLEM_KEYS = {"type", "title", "status", "detail", "request_id"}


def assert_problem(response: Any, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"urn:outpost:problem:{type_suffix}"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "type_suffix"),
    [
        ("GET", "/no/such/route", {}, 404, "not-found"),
        ("POST", "/health", {}, 405, "method-not-allowed"),
        ("DELETE", "/api/v1/settings", {}, 405, "method-not-allowed"),
        (
            "PATCH",
            "/api/v1/settings",
            {"content": b"log_level=DEBUG", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported-media-type",
        ),
        ("PATCH", "/api/v1/settings", {"content": b"", "headers": {}}, 415, "unsupported-media-type"),
        (
            "PATCH",
            "/api/v1/settings",
            {"content": b"{oops", "headers": {"content-type": "application/json"}},
            400,
            "bad-request",
        ),
        ("PATCH", "/api/v1/settings", {"json": {"log_level": "LOUD"}}, 422, "validation"),
        ("PATCH", "/api/v1/settings", {"json": {"no_such_setting": 1}}, 422, "validation"),
        ("PATCH", "/api/v1/settings", {"json": [1, 2]}, 422, "validation"),
    ],
)
def test_error_replies_are_problem_json(
    client: TestClient[Litestar], method: str, path: str, kwargs: dict[str, Any], status: int, type_suffix: str
) -> None:
    assert_problem(client.request(method, path, **kwargs), status, type_suffix)


def test_405_names_the_allowed_methods(client: TestClient[Litestar]) -> None:
    response = client.post("/health")
    assert "GET" in response.headers["allow"]


def test_validation_lists_each_field(client: TestClient[Litestar]) -> None:
    body = assert_problem(client.patch("/api/v1/settings", json={"sqlite_synchronous": "OFF"}), 422, "validation")
    assert body["errors"] == [{"field": "sqlite_synchronous", "message": body["errors"][0]["message"]}]
    assert "OFF" in body["errors"][0]["message"]


def test_oversized_body_is_413(settings: Settings) -> None:
    from dataclasses import replace

    from backend.app import create_app
    from backend.startup import prepare_data_dir

    small = replace(prepare_data_dir(settings).settings, max_body_bytes=1024)
    with TestClient(create_app(small), base_url="http://testserver.local") as client:
        client.headers.update(sign_in_first_admin(client))
        response = client.patch("/api/v1/settings", json={"allowed_hosts": ["h" * 50] * 40})
    assert_problem(response, 413, "payload-too-large")


def test_unexpected_failure_is_500_without_internals_and_logged_with_request_id(
    client: TestClient[Litestar], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(settings.paths.database) as db:
        db.execute("DROP TABLE saved_settings")
    with caplog.at_level(logging.ERROR, logger="outpost.errors"):
        response = client.get("/api/v1/settings", headers={"X-Request-ID": "trace-me-500"})
    body = assert_problem(response, 500, "internal")
    assert body["request_id"] == "trace-me-500"
    assert "saved_settings" not in response.text
    assert "sqlite" not in response.text.lower()
    logged = [r for r in caplog.records if r.name == "outpost.errors"]
    assert logged
    assert logged[0].exc_info is not None


@pytest.mark.parametrize(
    ("path", "allow"), [("/api/v1/settings", "GET, HEAD, OPTIONS, PATCH"), ("/health", "GET, HEAD, OPTIONS")]
)
def test_options_lists_every_method_of_the_path(client: TestClient[Litestar], path: str, allow: str) -> None:
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow
