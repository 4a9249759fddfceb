"""Every route declares who may call it: a valid permission, or public for a stated reason (an explicit few)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from backend.app import create_app
from backend.auth.access import AUTHENTICATED, EXCLUDE_FROM_AUTH, PERMISSION, PUBLIC, SIGNED_IN
from backend.auth.permissions import permission_problem
from backend.settings import Settings
from backend.startup import prepare_data_dir

DOCS_PREFIX = "/schema"  # Litestar's OpenAPI handlers: open to anyone, they carry no opt of ours
DOCS_ASSETS = "/schema/assets/"  # ours: the docs page's files, declared public

PUBLIC_ALLOWLIST = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/api/v1/setup"),
    ("POST", "/api/v1/setup"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/schema/assets/{file_path:path}"),
    ("HEAD", "/schema/assets/{file_path:path}"),
}


@dataclass(frozen=True)
class Declared:
    """One HTTP method of one route and what its handler declares."""

    method: str
    path: str
    parameters: tuple[str, ...]
    opt: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def _is_auto_options(handler: HTTPRouteHandler) -> bool:
    return handler.http_methods == {"OPTIONS"} and handler.fn.__name__ == "options_handler"


def _is_litestar_docs(path: str) -> bool:
    return (path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/")) and not path.startswith(DOCS_ASSETS)


def declarations(app: Litestar) -> list[Declared]:
    """Every (method, route) of app but Litestar's automatic OPTIONS handlers and its API docs."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or _is_litestar_docs(route.path):
            continue
        for handler in route.route_handlers:
            if _is_auto_options(handler):
                continue
            for method in sorted(handler.http_methods):
                found.append(Declared(method, route.path, tuple(route.path_parameters), dict(handler.opt)))
    return found


def declaration_problem(declared: Declared) -> str | None:
    """What is wrong with a route's declaration, or None."""
    public, permission = declared.opt.get(PUBLIC), declared.opt.get(PERMISSION)
    if public is not None:
        if permission is not None:
            return "declares both public and a permission"
        if not isinstance(public, str) or not public.strip():
            return "is public without a reason"
        if declared.opt.get(EXCLUDE_FROM_AUTH) is not True:
            return "is public but not excluded from authentication"
        return None
    if permission is None:
        return "declares neither a permission nor public"
    if not isinstance(permission, str):
        return f"declares a permission that is not a string: {permission!r}"
    if permission in (SIGNED_IN, AUTHENTICATED):
        return None
    try:
        filled = permission.format(**{name: "x" for name in declared.parameters})
    except (KeyError, IndexError, ValueError) as exc:
        return f"permission {permission!r} names no path parameter ({exc})"
    problem = permission_problem(filled)
    return f"permission {permission!r} {problem}" if problem else None


@pytest.fixture(scope="module")
def outpost_app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    settings = Settings(data_dir=tmp_path_factory.mktemp("routes") / "data", allowed_hosts=("testserver.local",))
    return create_app(prepare_data_dir(settings).settings)


def test_every_route_declares_its_access(outpost_app: Litestar) -> None:
    found = declarations(outpost_app)
    assert len(found) >= 25
    offenders = {d.name: problem for d in found if (problem := declaration_problem(d))}
    assert offenders == {}


def test_the_public_routes_are_exactly_the_allowlist(outpost_app: Litestar) -> None:
    public = {(d.method, d.path) for d in declarations(outpost_app) if d.opt.get(PUBLIC) is not None}
    assert public == PUBLIC_ALLOWLIST


def test_the_only_skipped_routes_are_litestars_api_docs(outpost_app: Litestar) -> None:
    checked = {d.path for d in declarations(outpost_app)}
    every = {route.path for route in outpost_app.routes if isinstance(route, HTTPRoute)}
    assert every - checked
    assert all(_is_litestar_docs(path) for path in every - checked), every - checked


def _handler(path: str, opt: dict[str, Any]) -> HTTPRouteHandler:
    async def endpoint() -> None:
        return None

    return get(path, opt=opt)(endpoint)


@pytest.mark.parametrize(
    ("path", "opt", "problem"),
    [
        pytest.param("/a", {}, "declares neither a permission nor public", id="undeclared"),
        pytest.param("/a", {PERMISSION: "users:reed"}, "users:reed is not a known permission", id="misspelt"),
        pytest.param("/a", {PERMISSION: "audit:read:x"}, "do not take a collection", id="collection-on-audit"),
        pytest.param("/a", {PERMISSION: "records:read:{collection}"}, "names no path parameter", id="missing-param"),
        pytest.param("/a", {PUBLIC: " ", EXCLUDE_FROM_AUTH: True}, "is public without a reason", id="no-reason"),
        pytest.param("/a", {PUBLIC: "because"}, "not excluded from authentication", id="half-public"),
        pytest.param(
            "/a", {PUBLIC: "because", EXCLUDE_FROM_AUTH: True, PERMISSION: "users:read"}, "declares both", id="both"
        ),
        pytest.param("/c/{collection:str}", {PERMISSION: "records:read:{collection}"}, None, id="ok-per-collection"),
        pytest.param("/a", {PERMISSION: SIGNED_IN}, None, id="ok-signed-in"),
        pytest.param("/a", {PERMISSION: "*"}, None, id="ok-wildcard"),
    ],
)
def test_the_checker_catches_bad_declarations(path: str, opt: dict[str, Any], problem: str | None) -> None:
    """The check above can fail: run it over a throwaway app with such routes."""
    [declared] = [d for d in declarations(Litestar(route_handlers=[_handler(path, opt)])) if d.method == "GET"]
    found = declaration_problem(declared)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def _schema_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def test_openapi_security_matches_the_declarations(outpost_app: Litestar) -> None:
    with TestClient(outpost_app, base_url="http://testserver.local") as client:
        schema = client.get("/schema/openapi.json").json()
    schemes = set(schema["components"]["securitySchemes"])
    assert "security" not in schema  # no global requirement: each operation says its own
    public = {
        (d.method.lower(), _schema_path(d.path)) for d in declarations(outpost_app) if d.opt.get(PUBLIC) is not None
    }
    wrong = {}
    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations += 1
            security = operation.get("security")
            if (method, path) in public:
                if security:
                    wrong[f"{method.upper()} {path}"] = f"public, yet documents security {security}"
            elif not security:
                wrong[f"{method.upper()} {path}"] = "protected, yet documents no security"
            elif not all(set(requirement) <= schemes for requirement in security):
                wrong[f"{method.upper()} {path}"] = f"names an undefined scheme: {security}"
    assert operations >= 25
    assert wrong == {}
