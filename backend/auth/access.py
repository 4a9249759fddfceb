"""What each route declares it needs, and the guard that enforces it (failing closed)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.auth.permissions import Principal
from backend.errors import Forbidden, Unauthorized
from backend.observability.audit import Actor, AuditEntry

PERMISSION = "permission"
PUBLIC = "public"
SIGNED_IN = "signed-in"  # any person with a session (not an API key): their own account, sign-out
AUTHENTICATED = "authenticated"  # any valid credential, person or API key: "who am I"
# The API's own description and docs page: Litestar's OpenAPI handlers carry no opt of ours.
OPEN_PATH_PREFIX = "/schema"
EXCLUDE_FROM_AUTH = "exclude_from_auth"  # Litestar's opt key for skipping the authentication middleware


# OpenAPI security of every protected operation: a bearer token (JWT or API key) or the X-API-Key header.
BEARER_SCHEME = "BearerToken"
API_KEY_SCHEME = "ApiKeyHeader"
PROTECTED: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]


def requires(permission: str) -> dict[str, Any]:
    """Route opt: the permission the operation needs ({name} is filled from path parameters)."""
    return {PERMISSION: permission}


def signed_in() -> dict[str, Any]:
    """Route opt: any signed-in person, acting on their own account or session."""
    return {PERMISSION: SIGNED_IN}


def authenticated() -> dict[str, Any]:
    """Route opt: any valid credential, a person's or an API key's."""
    return {PERMISSION: AUTHENTICATED}


def public(reason: str) -> dict[str, Any]:
    """Route opt: no credentials at all, for the stated reason."""
    return {PUBLIC: reason, EXCLUDE_FROM_AUTH: True}


def is_open_path(path: str) -> bool:
    """Whether path is part of the API docs, served to anyone."""
    return path == OPEN_PATH_PREFIX or path.startswith(OPEN_PATH_PREFIX + "/")


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's address (the limiter's and the audit's notion of 'client')."""
    return connection.client.host if connection.client else "unknown"


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The audit actor for the request's principal."""
    principal: Principal = connection.user
    return Actor(principal.kind, principal.id, principal.label, client_address(connection))


def grantor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> frozenset[str]:
    """The permissions the request's principal may hand on (no more than it holds)."""
    principal: Principal = connection.user
    return principal.permissions


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: the handler's declared permission, or 403 (audited); undeclared routes are refused."""
    method = connection.scope.get("method")  # a websocket's scope has none
    if handler.opt.get(PUBLIC) or method == "OPTIONS" or is_open_path(connection.scope["path"]):
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthorized("Sign in, or send an API key.")
    needed = handler.opt.get(PERMISSION)
    if needed == AUTHENTICATED:
        return
    if needed == SIGNED_IN:
        if principal.kind == "user":
            return
        reason = "this operation is for a signed-in person, not an API key"
    elif isinstance(needed, str):
        needed = needed.format(**connection.path_params)
        if principal.can(needed):
            return
        reason = f"needs the permission {needed}"
    else:
        reason = "the operation declares no permission, so nobody may use it"
    audit = connection.app.state.identity.audit
    target = f"{connection.scope.get('method')} {connection.url.path}"
    await audit.record(AuditEntry("access.denied", actor_of(connection), "denied", target, {"reason": reason}))
    raise Forbidden(f"Not allowed: {reason}.")


class AuthorizeMiddleware:
    """The app-wide guard (authorize, above) as the innermost middleware: every route, after authentication.

    Litestar's own guards receive copy(handler) on every request, so a guard cannot change the handler:
    a shallow copy of an object of some sixty attributes, 15 % of what /health cost. authorize only
    reads the handler's opt, so here it is handed the handler itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope["route_handler"]
        if not handler.opt.get(PUBLIC):  # a probe needs no connection built; every other route is checked
            await authorize(ASGIConnection(scope, receive, send), handler)
        await self.app(scope, receive, send)
