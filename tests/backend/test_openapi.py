"""The OpenAPI document: 3.1, every operation summarised, its error replies documented."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

BODY_ERRORS = {"400", "413", "415", "422"}
# The server can answer these before any route runs: a Host it does not serve, a target or head too long.
EVERY_OPERATION_ERRORS = {"400", "414", "431"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_schema_is_openapi_31_and_served_with_browsable_docs(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    page = client.get("/schema")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    # Offline-first: the docs page loads its scripts from this server, not a CDN.
    assert "/schema/assets/swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text.split("<body>")[0]
    assert client.get("/schema/assets/swagger-ui-bundle.js").status_code == 200


def test_every_operation_has_a_summary_and_documents_its_errors(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    found = operations(schema)
    assert {(p, m) for p, m, _ in found} >= {
        ("/health", "get"),
        ("/ready", "get"),
        ("/api/v1/system", "get"),
        ("/api/v1/settings", "get"),
        ("/api/v1/settings", "patch"),
    }
    for path, method, operation in found:
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        missing_anywhere = EVERY_OPERATION_ERRORS - set(operation["responses"])
        assert not missing_anywhere, f"{method.upper()} {path} does not document {missing_anywhere}"
        if "requestBody" in operation:
            missing = BODY_ERRORS - set(operation["responses"])
            assert not missing, f"{method.upper()} {path} does not document {missing}"
            for status in BODY_ERRORS:
                assert "application/problem+json" in operation["responses"][status]["content"]
