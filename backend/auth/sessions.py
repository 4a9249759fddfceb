"""Sessions: sign in, rotate refresh tokens (with reuse detection), sign out, change one's password."""

from __future__ import annotations

import uuid
from dataclasses import astuple, dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.auth.models import RefreshToken, RevokedAccessToken, User
from backend.auth.password_policy import password_problem
from backend.auth.passwords import PasswordHasher
from backend.auth.permissions import Principal
from backend.auth.principals import PrincipalDirectory
from backend.auth.throttle import Backoff, Counted, LoginThrottle
from backend.auth.tokens import ACCESS_TTL, AccessTokens, DeviceTokens, digest, new_opaque_token
from backend.auth.unknown_identifiers import UnknownIdentifiers
from backend.auth.users import email_key, revoke_sessions
from backend.db.engine import Database
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

REFRESH_TTL = timedelta(days=7)  # idle limit: a session unused for a week ends
SESSION_MAX = timedelta(days=30)  # absolute limit: then the person signs in again
REUSE_GRACE = timedelta(seconds=10)  # two racing refreshes of one token are a race, not a theft
WRONG_CREDENTIALS = "The email or password is not right."
BEARER = {"WWW-Authenticate": 'Bearer realm="outpost"'}


@dataclass(frozen=True)
class TokenPair:
    """A short-lived access token (JWT) and the opaque refresh token that renews it."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


@dataclass(frozen=True)
class SignedIn:
    """A new session's tokens, and the device token to send with this account's next sign-in."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    device_token: str


class SessionService:
    """Sign-in and the life of a session; every outcome that matters is audited."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        audit: AuditTrail,
        directory: PrincipalDirectory,
        throttle: LoginThrottle,
        device_tokens: DeviceTokens,
        unknown: UnknownIdentifiers,
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.tokens = tokens
        self.audit = audit
        self.directory = directory
        self.throttle = throttle
        self.device_tokens = device_tokens
        self.unknown = unknown

    async def login(self, email: str, password: str, client: str, device_token: str | None = None) -> SignedIn:
        """A new session for the right email and password; the same reply, after the same work, otherwise.

        The attempt is counted before the password is checked (see throttle.py); a device token bound
        to this account makes it count against that token alone.
        """
        key = email_key(email)
        device = self.device_tokens.read(device_token) if device_token else None

        def claim(session: Session) -> tuple[User | None, tuple[Counted, ...], Backoff | None]:
            # One trip to the writer: who the email names, the attempt counted (or refused, audited).
            user = session.execute(select(User).where(User.email_key == key)).scalar_one_or_none()
            bound = device is not None and user is not None and device.user_id == user.id
            counted = self.throttle.counters(key, client, device.device_id if bound and device else None)
            backoff = self.throttle.claim(session, counted)
            if backoff is not None:
                label = user.email if user is not None else self.unknown.label(email)
                reason = f"throttled ({backoff.scope})"
                self.audit.append_in(
                    session,
                    AuditEntry(
                        "auth.login",
                        Actor("anonymous", None, label, client),
                        "denied",
                        f"user:{label}",
                        {"reason": reason},
                    ),
                )
            return user, counted, backoff

        user, counted, backoff = await self.db.write_in_thread(claim)
        if backoff is not None:
            raise TooManyRequests(
                f"Too many failed sign-ins; try again in {backoff.retry_after_s} s.",
                headers={"Retry-After": str(backoff.retry_after_s)},
            )
        # An identifier that matches nobody may be a password typed into the wrong box: never keep it.
        label = user.email if user is not None else self.unknown.label(email)
        anonymous = Actor("anonymous", None, label, client)
        matches = await self.hasher.verify_off_loop(user.password_hash if user else None, password)
        if user is None or not matches or not user.is_active:
            reason = "unknown email" if user is None else "wrong password" if not matches else "user disabled"
            await self.audit.record(AuditEntry("auth.login", anonymous, "failure", f"user:{label}", {"reason": reason}))
            raise Unauthorized(WRONG_CREDENTIALS, headers=BEARER)
        new_hash = await self.hasher.hash_off_loop(password) if self.hasher.needs_rehash(user.password_hash) else None
        actor = Actor("user", user.id, user.email, client)
        user_id = user.id

        def finish(session: Session) -> TokenPair:
            # One trip again: the count cleared, the session started, the sign-in audited, one COMMIT.
            self.throttle.release(session, counted)
            values: dict[str, object] = {"last_login_at": utc_now()}
            if new_hash:
                values["password_hash"] = new_hash  # upgraded to today's parameters while we hold the password
            session.execute(update(User).where(User.id == user_id).values(**values))
            pair = self._start(session, user_id, client)
            self.audit.append_in(
                session,
                AuditEntry("auth.login", actor, target=f"user:{actor.label}", details={"rehashed": bool(new_hash)}),
            )
            return pair

        pair = await self.db.write_in_thread(finish)
        return SignedIn(*astuple(pair), device_token=self.device_tokens.issue(user_id))

    def _start(self, session: Session, user_id: str, client: str | None, family_id: str | None = None) -> TokenPair:
        now = utc_now()
        family_expires = now + SESSION_MAX
        if family_id:  # a rotation keeps the session's absolute end
            query = select(RefreshToken.family_expires_at).where(RefreshToken.family_id == family_id).limit(1)
            family_expires = session.execute(query).scalar_one_or_none() or family_expires
        family_id = family_id or str(uuid.uuid4())
        refresh = new_opaque_token()
        session.add(
            RefreshToken(
                id=str(uuid.uuid4()),
                family_id=family_id,
                user_id=user_id,
                token_digest=digest(refresh),
                issued_at=now,
                expires_at=min(now + REFRESH_TTL, family_expires),
                family_expires_at=family_expires,
                client=client,
            )
        )
        access = self.tokens.issue(user_id, family_id, now)
        return TokenPair(access.encoded, refresh, "Bearer", int(ACCESS_TTL.total_seconds()))

    async def refresh(self, refresh_token: str, client: str) -> TokenPair:
        """Rotate: the presented token is spent and a new pair returned; a spent token's reuse ends the session."""
        now = utc_now()
        failure: Unauthorized | Conflict | None = None
        ended: set[str] = set()
        async with self.db.write() as session:
            row = (
                await session.execute(select(RefreshToken).where(RefreshToken.token_digest == digest(refresh_token)))
            ).scalar_one_or_none()
            user = await self.directory.user(row.user_id) if row is not None else None
            if row is None or row.revoked_at is not None or row.expires_at <= now or user is None:
                failure = Unauthorized("The refresh token is not valid; sign in again.", headers=BEARER)
            elif row.rotated_at is not None and now - row.rotated_at <= REUSE_GRACE:
                failure = Conflict("This refresh token was just used; use the tokens that refresh returned.")
            elif row.rotated_at is not None:
                ended = await revoke_sessions(session, family_id=row.family_id)
                actor = Actor("user", row.user_id, user.label, client)
                await self.audit.append(
                    session,
                    AuditEntry(
                        "auth.refresh_reuse",
                        actor,
                        "failure",
                        f"session:{row.family_id}",
                        {"action": "session revoked"},
                    ),
                )
                failure = Unauthorized(
                    "This refresh token was already used; the session is ended. Sign in again.", headers=BEARER
                )
            else:
                row.rotated_at = now
                pair = await session.run_sync(self._start, row.user_id, client, row.family_id)
        self.directory.note_sessions_revoked(ended)  # a stolen token's session: its access tokens die too
        if failure is not None:
            raise failure
        return pair

    async def logout(self, principal: Principal, client: str | None) -> None:
        """End the session: its refresh tokens and this access token, at once."""
        if principal.kind != "user" or not principal.session_id or not principal.token_id:
            raise Forbidden("Only a signed-in person can sign out; API keys are revoked instead.")
        async with self.db.write() as session:
            await revoke_sessions(session, family_id=principal.session_id)
            expires = utc_now() + ACCESS_TTL
            session.add(RevokedAccessToken(jti=principal.token_id, expires_at=expires))
            actor = Actor("user", principal.id, principal.label, client)
            await self.audit.append(session, AuditEntry("auth.logout", actor, target=f"session:{principal.session_id}"))
        self.directory.note_revoked(principal.token_id, expires)
        self.directory.note_sessions_revoked({principal.session_id})

    async def change_password(self, principal: Principal, current: str, new: str, client: str | None) -> TokenPair:
        """Change one's own password: every session ends, and this one continues under new tokens."""
        if principal.kind != "user" or principal.user_id is None:
            raise Forbidden("Only a signed-in person can change their password.")
        async with self.db.read() as session:
            user = await session.get(User, principal.user_id)
        if user is None:
            raise Unauthorized("The account no longer exists.", headers=BEARER)
        if not await self.hasher.verify_off_loop(user.password_hash, current):
            raise ValidationFailed(
                "The password was not changed.", errors=[FieldError("current_password", "is not right")]
            )
        if problem := password_problem(new, user.email):
            raise ValidationFailed("The password was not changed.", errors=[FieldError("new_password", problem)])
        new_hash = await self.hasher.hash_off_loop(new)
        now = utc_now()
        async with self.db.write() as session:
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(password_hash=new_hash, password_changed_at=now, updated_at=now)
            )
            ended = await revoke_sessions(session, user.id)
            pair = await session.run_sync(self._start, user.id, client)
            actor = Actor("user", user.id, user.email, client)
            await self.audit.append(session, AuditEntry("auth.change_password", actor, target=f"user:{user.email}"))
        self.directory.invalidate()
        self.directory.note_sessions_revoked(ended)
        return pair
