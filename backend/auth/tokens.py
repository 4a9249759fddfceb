"""The one JWT wrapper: short-lived HS256 access tokens and long-lived device tokens, with Litestar's Token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
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


DEVICE_AUDIENCE = "outpost-device"
DEVICE_TTL = timedelta(days=365)


@dataclass(frozen=True)
class DeviceToken:
    """A device token's id (what the throttle counts against) and the user it is bound to."""

    device_id: str
    user_id: str


class DeviceTokens:
    """Signed device tokens (OWASP device cookies): JWTs under a key of their own, naming one account."""

    def __init__(self, instance_secret: bytes) -> None:
        # Its own key and audience: a device token is never an access token, nor the other way round.
        self.signing_key = derive_key(instance_secret, "device").hex()

    def issue(self, user_id: str, now: datetime | None = None) -> str:
        """A new device token for a client that just signed in as user_id."""
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        token = Token(
            sub=user_id,
            iat=issued,
            exp=issued + DEVICE_TTL,
            iss=ISSUER,
            aud=DEVICE_AUDIENCE,
            jti=uuid.uuid4().hex,
        )
        return token.encode(self.signing_key, ALGORITHM)

    def read(self, encoded: str) -> DeviceToken | None:
        """The token's id and user when it is one of ours and unexpired; None for anything else."""
        try:
            token = Token.decode(
                encoded,
                self.signing_key,
                ALGORITHM,
                audience=DEVICE_AUDIENCE,
                issuer=ISSUER,
                require_claims=REQUIRED_CLAIMS,
                strict_audience=True,
            )
        except (NotAuthorizedException, ImproperlyConfiguredException, ValueError):
            return None
        return DeviceToken(token.jti or "", token.sub) if token.jti else None
