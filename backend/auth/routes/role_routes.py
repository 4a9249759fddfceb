"""/api/v1/roles: roles and their permissions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from msgspec import UNSET

from backend.auth.access import PROTECTED, actor_of, grantor_of, requires
from backend.auth.identity import Identity
from backend.auth.roles import RoleService, RoleView
from backend.auth.routes.reply_headers import LOCATION, created
from backend.auth.routes.schemas import RoleCreate, RoleList, RolePatch
from backend.errors import problem_responses
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit

AnyRequest = Request[Any, Any, Any]
Name = Annotated[str, Parameter(max_length=40, description="The role's name")]


class RoleController(Controller):
    """Built-in roles (read-only) and custom roles."""

    path = "/api/v1/roles"
    tags = ["roles"]
    security = PROTECTED

    @get(
        summary="List roles and the permission catalogue",
        opt=requires("roles:read"),
        responses=problem_responses(401, 403, 422),
    )
    async def list_roles(
        self, identity: NamedDependency[Identity], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> RoleList:
        """Roles, built-in first, with the permissions a role can hold; follow next_cursor for the rest."""
        items, next_cursor = await identity.roles.page(limit=limit, cursor=cursor)
        return RoleList(items=items, next_cursor=next_cursor, permissions=RoleService.catalogue())

    @post(
        summary="Create a custom role",
        opt=requires("roles:write"),
        responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
        response_headers=[LOCATION],
    )
    async def create_role(
        self, request: AnyRequest, data: JSONBody[RoleCreate], identity: NamedDependency[Identity]
    ) -> Response[RoleView]:
        """Permissions are `resource:action`, optionally `:collection` for records and collections."""
        view = await identity.roles.create(
            actor_of(request),
            name=data.name,
            description=data.description,
            permissions=data.permissions,
            grantor=grantor_of(request),
        )
        return created(view, f"/api/v1/roles/{view.name}")

    @get("/{name:str}", summary="One role", opt=requires("roles:read"), responses=problem_responses(401, 403, 404, 422))
    async def get_role(self, name: Name, identity: NamedDependency[Identity]) -> RoleView:
        """A role by name."""
        return await identity.roles.get(name)

    @patch(
        "/{name:str}",
        summary="Change a custom role",
        opt=requires("roles:write"),
        responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def update_role(
        self, request: AnyRequest, name: Name, data: JSONBody[RolePatch], identity: NamedDependency[Identity]
    ) -> RoleView:
        """Holders get the new permissions on their next request; built-in roles refuse (409)."""
        changes = {key: value for key, value in msgspec.structs.asdict(data).items() if value is not UNSET}
        view = await identity.roles.update(
            actor_of(request),
            name,
            description=changes.get("description"),
            permissions=changes.get("permissions"),
            grantor=grantor_of(request),
        )
        return view

    @delete(
        "/{name:str}",
        summary="Delete a custom role",
        opt=requires("roles:write"),
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def delete_role(self, request: AnyRequest, name: Name, identity: NamedDependency[Identity]) -> None:
        """Its holders lose it; built-in roles refuse (409)."""
        await identity.roles.delete(actor_of(request), name, grantor_of(request))
