"""/api/v1/setup and /api/v1/auth: the first administrator, sign-in, refresh, sign-out, one's own account."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from backend.auth.access import PROTECTED, authenticated, client_address, public, signed_in
from backend.auth.first_admin import SETUP_TOKEN_HEADER
from backend.auth.identity import Identity
from backend.auth.permissions import Principal
from backend.auth.routes.reply_headers import LOCATION, NO_STORE, PRAGMA_NO_CACHE, created
from backend.auth.routes.schemas import (
    Credentials,
    FirstAdmin,
    Me,
    PasswordChange,
    RefreshRequest,
    SetupState,
)
from backend.auth.sessions import SignedIn, TokenPair
from backend.auth.users import UserView
from backend.errors import problem_responses
from backend.request_body import SMALL_BODY_LIMIT

AnyRequest = Request[Any, Any, Any]


class SetupController(Controller):
    """Creating the first administrator of a new instance."""

    path = "/api/v1/setup"
    tags = ["auth"]

    @get(
        summary="Whether the instance still needs its first administrator",
        opt=public("asked before anyone can sign in"),
        responses=problem_responses(),
    )
    async def setup_state(self, identity: NamedDependency[Identity]) -> SetupState:
        """True until the first user exists, where the first one is made over HTTP (never in server mode)."""
        return SetupState(needs_first_admin=identity.setup.over_http and await identity.users.count() == 0)

    @post(
        request_max_body_size=SMALL_BODY_LIMIT,
        summary="Create the first administrator (only while no user exists, only from this machine)",
        description=(
            "Needs the one-time setup token in the X-Setup-Token header: `outpost serve` writes it, while no user "
            "exists, to setup.token in the data directory (owner-only) and prints that file's path. The token is "
            "deleted once the first user exists. Refused (403, audited) from other machines and without the token."
        ),
        status_code=201,
        opt=public("there is nobody to sign in as yet; the setup token from the data directory is the credential"),
        responses=problem_responses(400, 403, 409, 413, 415, 422),
        cache_control=NO_STORE,
        response_headers=[PRAGMA_NO_CACHE, LOCATION],
    )
    async def create_first_admin(
        self,
        request: AnyRequest,
        data: JSONBody[FirstAdmin],
        identity: NamedDependency[Identity],
        setup_token: Annotated[
            str | None,
            HeaderParameter(
                name=SETUP_TOKEN_HEADER,
                required=False,
                max_length=200,
                description="The contents of setup.token in the data directory",
            ),
        ] = None,
    ) -> Response[UserView]:
        """The first user, with the admin role."""
        user = await identity.setup.create(
            client=client_address(request),
            setup_token=setup_token,
            email=data.email,
            display_name=data.display_name,
            password=data.password,
        )
        return created(user, f"/api/v1/users/{user.id}")


class SessionController(Controller):
    """Sign-in, token refresh, sign-out, and one's own account."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        request_max_body_size=SMALL_BODY_LIMIT,
        summary="Sign in with email and password",
        description=(
            "An access token (15 min), a refresh token, and a device token: send the device token with this "
            "account's next sign-in (field device_token) so that failed sign-ins by others do not hold this "
            "client back. Each success returns a new one; keep the latest. Failed sign-ins are throttled per "
            "account (and per client, from other machines), or per device token when one is sent: 429 with "
            "Retry-After."
        ),
        status_code=HTTP_200_OK,
        opt=public("this is how one gets credentials"),
        responses=problem_responses(400, 401, 413, 415, 422, 429),
        cache_control=NO_STORE,
        response_headers=[PRAGMA_NO_CACHE],
    )
    async def login(
        self, request: AnyRequest, data: JSONBody[Credentials], identity: NamedDependency[Identity]
    ) -> SignedIn:
        """The same 401 for an unknown email and a wrong password."""
        return await identity.sessions.login(data.email, data.password, client_address(request), data.device_token)

    @post(
        "/refresh",
        request_max_body_size=SMALL_BODY_LIMIT,
        summary="Trade a refresh token for a new pair (the old one is spent)",
        status_code=HTTP_200_OK,
        opt=public("the refresh token is the credential"),
        responses=problem_responses(400, 401, 409, 413, 415, 422),
        cache_control=NO_STORE,
        response_headers=[PRAGMA_NO_CACHE],
    )
    async def refresh(
        self, request: AnyRequest, data: JSONBody[RefreshRequest], identity: NamedDependency[Identity]
    ) -> TokenPair:
        """Rotation: reusing a spent token ends the session (409 within a few seconds, for a racing twin)."""
        return await identity.sessions.refresh(data.refresh_token, client_address(request))

    @post(
        "/logout",
        summary="Sign out: end this session and its access token",
        status_code=HTTP_204_NO_CONTENT,
        opt=signed_in(),
        security=PROTECTED,
        responses=problem_responses(401, 403),
    )
    async def logout(self, request: AnyRequest, identity: NamedDependency[Identity]) -> None:
        """Revokes the session's refresh tokens and this access token at once."""
        await identity.sessions.logout(request.user, client_address(request))

    @get(
        "/me",
        summary="Who the credentials belong to, and what they may do",
        opt=authenticated(),
        security=PROTECTED,
        responses=problem_responses(401),
    )
    async def me(self, request: AnyRequest) -> Me:
        """The person or API key making this request."""
        principal: Principal = request.user
        return Me(
            principal.kind,
            principal.id,
            principal.label,
            principal.user_id,
            list(principal.roles),
            sorted(principal.permissions),
        )

    @post(
        "/me/password",
        request_max_body_size=SMALL_BODY_LIMIT,
        summary="Change one's own password (every other session ends)",
        status_code=HTTP_200_OK,
        opt=signed_in(),
        security=PROTECTED,
        responses=problem_responses(400, 401, 403, 413, 415, 422),
        cache_control=NO_STORE,
        response_headers=[PRAGMA_NO_CACHE],
    )
    async def change_password(
        self, request: AnyRequest, data: JSONBody[PasswordChange], identity: NamedDependency[Identity]
    ) -> TokenPair:
        """New tokens for this session; every session, this one's old tokens included, ends."""
        pair = await identity.sessions.change_password(
            request.user, data.current_password, data.new_password, client_address(request)
        )
        return pair
