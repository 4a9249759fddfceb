"""/api/v1/permissions: every permission and what it allows."""

from __future__ import annotations

from litestar import Controller, get
from msgspec import Struct

from backend.auth.access import PROTECTED, authenticated
from backend.auth.roles import RoleService
from backend.errors import problem_responses


class PermissionOut(Struct):
    """One permission and what holding it allows."""

    name: str
    description: str


class PermissionList(Struct):
    """The whole catalogue (it is short and fixed, so it is never paged)."""

    items: list[PermissionOut]


class PermissionController(Controller):
    """The permission catalogue."""

    path = "/api/v1/permissions"
    tags = ["roles"]
    security = PROTECTED

    # Any credential: whoever may make an API key must be able to read what its scopes mean, and an editor
    # (api_keys:write, no roles:read) cannot read the catalogue that GET /api/v1/roles carries.
    @get(summary="Every permission and what it allows", opt=authenticated(), responses=problem_responses(401))
    async def list_permissions(self) -> PermissionList:
        """Permissions in catalogue order; `*` (everything) is not listed, it is not a catalogue entry."""
        return PermissionList(
            items=[PermissionOut(name, description) for name, description in RoleService.catalogue().items()]
        )
