"""The OpenAPI document makes a clean client: openapi-python-client generates one without a warning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.errors import PROBLEM_JSON

GENERATOR = Path(sys.executable).with_name("openapi-python-client")  # the test extra installs it beside Python
LIST_ITEM_LIMITS = [
    ("ApiKeyCreate", "scopes"),
    ("RoleCreate", "permissions"),
    ("RolePatch", "permissions"),
    ("UserCreate", "roles"),
    ("UserPatch", "roles"),
    ("SettingsChanges", "allowed_hosts"),
    ("SettingsChanges", "cors_origins"),
]


@pytest.fixture
def document(client: TestClient[Litestar]) -> dict[str, Any]:
    return dict(client.get("/schema/openapi.json").json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in document["paths"].items() for m, op in item.items() if "responses" in op]


def test_openapi_python_client_generates_a_client_without_warnings(document: dict[str, Any], tmp_path: Path) -> None:
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # formatting the output is not what is tested
    out = tmp_path / "client"
    command = [GENERATOR, "generate", "--path", source, "--output-path", out, "--meta", "none", "--config", config]
    run = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    assert list((out / "api" / "users").glob("*list_users.py"))


def test_every_error_reply_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        for status, reply in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(reply["content"]) == {PROBLEM_JSON}, f"{method.upper()} {path} {status}"


@pytest.mark.parametrize(("schema", "field"), LIST_ITEM_LIMITS)
def test_list_items_publish_their_limits(document: dict[str, Any], schema: str, field: str) -> None:
    prop = document["components"]["schemas"][schema]["properties"][field]
    arrays = [prop] if prop.get("type") == "array" else [m for m in prop.get("oneOf", []) if m.get("type") == "array"]
    assert arrays, prop
    for array in arrays:
        assert array["items"].get("maxLength"), f"{schema}.{field}: {array}"


def test_query_parameters_are_plain_strings_with_their_formats(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/audit"]["get"]["parameters"]}
    assert parameters["outcome"]["type"] == "string"
    assert parameters["outcome"]["enum"] == ["success", "failure", "denied"]
    for name in ("since", "until"):
        assert parameters[name]["type"] == "string"
        assert parameters[name]["format"] == "date-time"
    for name in ("cursor", "action", "actor"):
        assert parameters[name]["type"] == "string", name
        assert "oneOf" not in parameters[name], name
