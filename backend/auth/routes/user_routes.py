"""/api/v1/users: the people who sign in."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from msgspec import UNSET

from backend.auth.access import PROTECTED, actor_of, grantor_of, requires
from backend.auth.identity import Identity
from backend.auth.routes.reply_headers import LOCATION, created
from backend.auth.routes.schemas import PasswordReset, UserCreate, UserList, UserPatch
from backend.auth.users import UserView
from backend.errors import problem_responses
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit, optional_string
from backend.request_body import SMALL_BODY_LIMIT

AnyRequest = Request[Any, Any, Any]
UserId = Annotated[str, Parameter(max_length=36, description="The user's id")]


class UserController(Controller):
    """Users: list, create, edit, disable, reset password, roles."""

    path = "/api/v1/users"
    tags = ["users"]
    security = PROTECTED

    @get(summary="List users", opt=requires("users:read"), responses=problem_responses(401, 403, 422))
    async def list_users(
        self,
        identity: NamedDependency[Identity],
        q: Annotated[
            str | None,
            Parameter(max_length=254, description="Part of the email or name", schema_extra=optional_string()),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> UserList:
        """Users (whose email or name contains q, if given), by email; follow next_cursor for the rest."""
        items, next_cursor = await identity.users.page(query=q, limit=limit, cursor=cursor)
        return UserList(items=items, next_cursor=next_cursor)

    @post(
        summary="Create a user",
        opt=requires("users:write"),
        responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
        response_headers=[LOCATION],
    )
    async def create_user(
        self, request: AnyRequest, data: JSONBody[UserCreate], identity: NamedDependency[Identity]
    ) -> Response[UserView]:
        """A new active user with the given roles; the password must pass the policy."""
        view = await identity.users.create(
            actor_of(request),
            email=data.email,
            display_name=data.display_name,
            password=data.password,
            roles=data.roles,
            grantor=grantor_of(request),
        )
        return created(view, f"/api/v1/users/{view.id}")

    @get(
        "/{user_id:str}",
        summary="One user",
        opt=requires("users:read"),
        responses=problem_responses(401, 403, 404, 422),
    )
    async def get_user(self, user_id: UserId, identity: NamedDependency[Identity]) -> UserView:
        """A user by id."""
        return await identity.users.get(user_id)

    @patch(
        "/{user_id:str}",
        summary="Change a user's email, name, roles or active state",
        opt=requires("users:write"),
        responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def update_user(
        self, request: AnyRequest, user_id: UserId, data: JSONBody[UserPatch], identity: NamedDependency[Identity]
    ) -> UserView:
        """Disabling ends the user's sessions at once; the last active administrator cannot be removed."""
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET}
        return await identity.users.update(actor_of(request), user_id, **changes, grantor=grantor_of(request))

    @post(
        "/{user_id:str}/password",
        request_max_body_size=SMALL_BODY_LIMIT,
        summary="Set a new password for a user (their sessions end)",
        status_code=HTTP_204_NO_CONTENT,
        opt=requires("users:write"),
        responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    )
    async def reset_password(
        self, request: AnyRequest, user_id: UserId, data: JSONBody[PasswordReset], identity: NamedDependency[Identity]
    ) -> None:
        """The new password must pass the policy."""
        await identity.users.reset_password(actor_of(request), user_id, data.password, grantor_of(request))
