"""Authentication: an API key (X-API-Key, or Bearer opk_…) or an access JWT read by Litestar's JWT machinery."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from backend.auth.access import API_KEY_SCHEME, BEARER_SCHEME, OPEN_PATH_PREFIX
from backend.auth.identity import Identity
from backend.auth.permissions import Principal
from backend.auth.principals import API_KEY_MARK
from backend.auth.tokens import ALGORITHM, AUDIENCE, ISSUER, REQUIRED_CLAIMS
from backend.errors import Unauthorized

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="outpost"'}


def _identity(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    return connection.app.state.identity


def _credential_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The first X-API-Key and Authorization headers, read straight from the scope (no Headers object built)."""
    api_key = authorization = None
    for name, value in headers:
        if name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    return api_key, authorization


class OutpostAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, with API keys tried first; every failure is a plain 401."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        api_key, authorization = _credential_headers(connection.scope["headers"])
        # Presence, not value: an empty header beside a valid one is still a second, broken credential.
        if api_key is not None and authorization is not None:
            # Two credentials are ambiguous: which one was meant to count? Refuse rather than guess.
            raise Unauthorized(
                "Send one credential: an Authorization header or X-API-Key, not both.", headers=CHALLENGE
            )
        scheme, _, credential = (authorization or "").partition(" ")
        if not api_key and scheme.lower() == "bearer" and credential.startswith(API_KEY_MARK):
            api_key = credential
        if api_key:
            principal = await _identity(connection).directory.api_key(api_key.strip())
            if principal is None:
                raise Unauthorized("The API key is not valid (unknown, revoked or expired).", headers=CHALLENGE)
            return AuthenticationResult(user=principal, auth=None)
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("Sign in, or send an API key.", headers=CHALLENGE)
        try:
            return await self.authenticate_token(encoded_token=credential.strip(), connection=connection)
        except NotAuthorizedException:
            raise Unauthorized(
                "The access token is not valid (expired, revoked or forged).", headers=CHALLENGE
            ) from None


async def principal_for_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in user behind a decoded access token; None for a disabled user or a voided token."""
    identity = _identity(connection)
    session_id = token.extras.get("sid")
    if not isinstance(token.jti, str) or not isinstance(session_id, str):
        return None
    if identity.directory.is_session_revoked(session_id):
        return None  # signed out, disabled, password changed, or a stolen refresh token was reused
    principal = await identity.directory.user(token.sub)
    if principal is None or (principal.valid_after is not None and token.iat < principal.valid_after):
        return None
    return dataclasses.replace(principal, session_id=session_id, token_id=token.jti)


async def token_revoked(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the access token was signed out."""
    return isinstance(token.jti, str) and _identity(connection).directory.is_revoked(token.jti)


def jwt_auth(signing_key: str) -> JWTAuth[Principal, Token]:
    """The authentication config: one algorithm, our issuer and audience, every claim required."""
    return JWTAuth[Principal, Token](
        token_secret=signing_key,
        algorithm=ALGORITHM,
        retrieve_user_handler=principal_for_token,
        revoked_token_handler=token_revoked,
        accepted_issuers=[ISSUER],
        accepted_audiences=[AUDIENCE],
        strict_audience=True,
        require_claims=list(REQUIRED_CLAIMS),
        authentication_middleware_class=OutpostAuthenticationMiddleware,
        exclude=[f"^{OPEN_PATH_PREFIX}"],
        exclude_http_methods=["OPTIONS"],
        openapi_security_scheme_name=BEARER_SCHEME,
        description="An access token from POST /api/v1/auth/login, or an API key (also accepted as X-API-Key).",
    )


def security_components(auth: JWTAuth[Principal, Token]) -> Components:
    """The OpenAPI security schemes: the bearer token and the X-API-Key header."""
    components = auth.openapi_components
    schemes = dict(components.security_schemes or {})
    schemes[API_KEY_SCHEME] = SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="An API key from POST /api/v1/api-keys (opk_…).",
    )
    components.security_schemes = schemes
    return components
