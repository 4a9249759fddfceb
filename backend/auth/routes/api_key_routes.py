"""/api/v1/api-keys: credentials for programs."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from backend.auth.access import PROTECTED, actor_of, requires
from backend.auth.identity import Identity
from backend.auth.permissions import Principal
from backend.auth.routes.reply_headers import LOCATION, NO_STORE, PRAGMA_NO_CACHE, created
from backend.auth.routes.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList
from backend.errors import Forbidden, problem_responses
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit

AnyRequest = Request[Any, Any, Any]
KeyId = Annotated[str, Parameter(max_length=36, description="The API key's id")]


class ApiKeyController(Controller):
    """Create (the key is shown once), list, revoke."""

    path = "/api/v1/api-keys"
    tags = ["api-keys"]
    security = PROTECTED

    @get(summary="List API keys", opt=requires("api_keys:read"), responses=problem_responses(401, 403, 422))
    async def list_keys(
        self,
        request: AnyRequest,
        identity: NamedDependency[Identity],
        everyone: Annotated[bool, Parameter(description="Every user's keys (needs api_keys:manage)")] = False,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ApiKeyList:
        """One's own keys, or with everyone=true and api_keys:manage, every key; newest first."""
        principal: Principal = request.user
        if everyone and not principal.can("api_keys:manage"):
            raise Forbidden("Listing every user's keys needs the permission api_keys:manage.")
        views, next_cursor = await identity.api_keys.page(principal, everyone=everyone, limit=limit, cursor=cursor)
        return ApiKeyList(items=views, next_cursor=next_cursor)

    @post(
        summary="Create an API key (its secret is in this reply only)",
        opt=requires("api_keys:write"),
        responses=problem_responses(400, 401, 403, 413, 415, 422),
        cache_control=NO_STORE,
        response_headers=[PRAGMA_NO_CACHE, LOCATION],
    )
    async def create_key(
        self, request: AnyRequest, data: JSONBody[ApiKeyCreate], identity: NamedDependency[Identity]
    ) -> Response[ApiKeyCreated]:
        """Scopes must be within your own permissions; send the key as X-API-Key or Bearer."""
        view, secret = await identity.api_keys.create(
            request.user, actor_of(request), name=data.name, scopes=data.scopes, expires_at=data.expires_at
        )
        return created(ApiKeyCreated(key=secret, api_key=view), f"/api/v1/api-keys/{view.id}")

    @delete(
        "/{key_id:str}",
        summary="Revoke an API key",
        opt=requires("api_keys:write"),
        responses=problem_responses(401, 403, 404, 422),
    )
    async def revoke_key(self, request: AnyRequest, key_id: KeyId, identity: NamedDependency[Identity]) -> None:
        """One's own key, or any key with api_keys:manage; it stops working at once."""
        await identity.api_keys.revoke(request.user, actor_of(request), key_id)
