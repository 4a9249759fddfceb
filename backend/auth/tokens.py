"""The one JWT wrapper: short-lived HS256 access tokens, made and read with Litestar's Token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from litestar.security.jwt import Token

ALGORITHM = "HS256"  # the one accepted algorithm: "none" and every other alg are refused at decode
ISSUER = "outpost"
AUDIENCE = "outpost-api"
ACCESS_TTL = timedelta(minutes=15)
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti", "iss", "aud")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose from the instance secret, so a leak of one use leaks no other."""
    return hmac.new(secret, f"outpost:{purpose}".encode(), hashlib.sha256).digest()


def new_opaque_token() -> str:
    """A random 256-bit token, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a high-entropy token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedAccessToken:
    """An encoded access token, its id and when it expires."""

    encoded: str
    jti: str
    expires_at: datetime


class AccessTokens:
    """Issues access tokens for the instance's JWT key; decoding is Litestar's JWT middleware."""

    def __init__(self, instance_secret: bytes) -> None:
        self.signing_key = derive_key(instance_secret, "jwt").hex()

    def issue(self, user_id: str, session_id: str, now: datetime | None = None) -> IssuedAccessToken:
        """An access token for user_id in session session_id."""
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        jti = uuid.uuid4().hex
        token = Token(
            sub=user_id,
            iat=issued,
            exp=issued + ACCESS_TTL,
            iss=ISSUER,
            aud=AUDIENCE,
            jti=jti,
            extras={"sid": session_id},
        )
        return IssuedAccessToken(token.encode(self.signing_key, ALGORITHM), jti, token.exp)
