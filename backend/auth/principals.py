"""Who a credential belongs to and what it may do, cached until any user, role or key changes."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import delete, func, select, update

from backend.auth.models import ApiKey, RefreshToken, RevokedAccessToken, Role, User, UserRole
from backend.auth.permissions import WILDCARD, Principal, allows
from backend.auth.tokens import ACCESS_TTL, digest
from backend.db.engine import Database
from backend.db.types import utc_now

API_KEY_MARK = "opk_"  # every key starts so: a scanner or a person can tell what leaked
logger = structlog.get_logger("outpost.auth")
LAST_USED_EVERY_S = 60.0  # last_used_at is a hint, not a log: one write a minute per key at most


def split_api_key(presented: str) -> tuple[str, str] | None:
    """(prefix, secret) of a key of the form opk_<prefix>_<secret>, or None."""
    if not presented.startswith(API_KEY_MARK):
        return None
    prefix, sep, secret = presented[len(API_KEY_MARK) :].partition("_")
    if not sep or not prefix or not secret:
        return None
    return API_KEY_MARK + prefix, secret


class PrincipalDirectory:
    """Resolves users and API keys to principals; the services call invalidate() on every change.

    Embedded, one backend process owns the database (DESIGN rule 5), so an in-process cache with explicit
    invalidation is exact: disabling a user takes effect on that user's very next request. In server mode
    every change is also announced to the other instances (on_change), which forget theirs and read the
    sign-outs again when they hear of it (reload; see shared_changes.py).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.on_change: Callable[[], None] = lambda: None  # tells the other instances (server mode)
        self._generation = 0
        self._users: dict[str, tuple[int, Principal | None]] = {}
        self._revoked: dict[str, datetime] = {}
        self._revoked_sessions: dict[str, datetime] = {}  # session id -> until when its access tokens could live
        self._key_last_used: dict[str, float] = {}
        self._keys: dict[str, tuple[int, ApiKey]] = {}  # prefix -> (generation, row); misses are not kept
        # digest of a presented key -> (generation, its principal, when the key expires); valid keys only
        self._key_principals: dict[str, tuple[int, Principal, datetime | None]] = {}
        self._touches: set[asyncio.Task[None]] = set()

    def invalidate(self) -> None:
        """Forget every cached principal (a user, role or key changed), here and on every other instance."""
        self.forget_principals()
        self.on_change()

    async def reload(self) -> None:
        """Another instance changed access: forget the principals held here, read the sign-outs again."""
        self.forget_principals()
        await self.load_revocations()

    def forget_principals(self) -> None:
        """Forget every principal cached here."""
        self._generation += 1
        self._users.clear()
        self._keys.clear()
        self._key_principals.clear()

    async def load_revocations(self) -> None:
        """Read the signed-out access tokens still unexpired, dropping the expired ones."""
        now = utc_now()
        async with self.db.write() as session:
            await session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= now))
            rows = (await session.execute(select(RevokedAccessToken.jti, RevokedAccessToken.expires_at))).all()
        self._revoked = {jti: expires for jti, expires in rows}
        # Sessions ended within one access-token life may still have live access tokens: void them.
        recent = now - ACCESS_TTL
        async with self.db.read() as session:
            query = select(RefreshToken.family_id, func.max(RefreshToken.revoked_at)).where(
                RefreshToken.revoked_at > recent
            )
            ended = (await session.execute(query.group_by(RefreshToken.family_id))).all()
        self._revoked_sessions = {family: when + ACCESS_TTL for family, when in ended}

    def note_sessions_revoked(self, session_ids: set[str]) -> None:
        """Void the access tokens of sessions the caller has just ended (and forget long-dead ones)."""
        now = utc_now()
        for session_id in session_ids:
            self._revoked_sessions[session_id] = now + ACCESS_TTL
        if session_ids:  # a refresh ends none: nothing for the other instances to hear
            self.on_change()
        if len(self._revoked_sessions) > 1000:
            self._revoked_sessions = {key: until for key, until in self._revoked_sessions.items() if until > now}

    def is_session_revoked(self, session_id: str) -> bool:
        """Whether the session an access token belongs to has ended."""
        return session_id in self._revoked_sessions

    def note_revoked(self, jti: str, expires_at: datetime) -> None:
        """Remember a revocation the caller has just stored (and forget those past their expiry)."""
        self._revoked[jti] = expires_at
        self.on_change()
        if len(self._revoked) > 1000:
            now = utc_now()
            self._revoked = {key: expiry for key, expiry in self._revoked.items() if expiry > now}

    def is_revoked(self, jti: str) -> bool:
        """Whether the access token was signed out."""
        return jti in self._revoked

    async def user(self, user_id: str) -> Principal | None:
        """The principal of an active user, None if unknown or disabled."""
        generation = self._generation
        cached = self._users.get(user_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        principal = None
        async with self.db.read() as session:
            user = await session.get(User, user_id)
            if user is not None and user.is_active:
                rows = (
                    await session.execute(
                        select(Role.name, Role.permissions)
                        .join(UserRole, UserRole.role_name == Role.name)
                        .where(UserRole.user_id == user_id)
                        .order_by(Role.name)
                    )
                ).all()
                principal = Principal(
                    kind="user",
                    id=user_id,
                    label=user.email,
                    user_id=user_id,
                    permissions=frozenset(p for _name, granted in rows for p in granted),
                    roles=tuple(name for name, _ in rows),
                    valid_after=user.password_changed_at.replace(microsecond=0),
                )
        if generation == self._generation:  # a change meanwhile makes this answer stale: do not keep it
            self._users[user_id] = (generation, principal)
        return principal

    async def api_key(self, presented: str) -> Principal | None:
        """The principal of a live API key: its scopes, cut down to what its owner still holds."""
        presented_digest = digest(presented)
        # A key seen before, with nothing changed since: every request of a program takes this path.
        known = self._key_principals.get(presented_digest)
        if known is not None and known[0] == self._generation and (known[2] is None or utc_now() < known[2]):
            self._touch(known[1].id)
            return known[1]
        generation = self._generation
        parts = split_api_key(presented)
        if parts is None:
            return None
        prefix, _secret = parts
        key = await self._key_row(prefix)
        if key is None or not hmac.compare_digest(key.secret_digest, presented_digest):
            return None
        now = utc_now()
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            return None
        owner = await self.user(key.owner_id)
        if owner is None:
            return None
        scopes = frozenset(
            s
            for s in key.scopes
            if (s == WILDCARD and WILDCARD in owner.permissions) or (s != WILDCARD and allows(owner.permissions, s))
        )
        self._touch(key.id)
        principal = Principal(
            kind="api_key", id=key.id, label=f"{key.name} ({prefix})", user_id=key.owner_id, permissions=scopes
        )
        if generation == self._generation:  # a change meanwhile makes this answer stale: do not keep it
            self._key_principals[presented_digest] = (generation, principal, key.expires_at)
        return principal

    async def _key_row(self, prefix: str) -> ApiKey | None:
        generation = self._generation
        cached = self._keys.get(prefix)
        if cached is not None and cached[0] == generation:
            return cached[1]
        async with self.db.read() as session:
            key = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()
        if key is not None and generation == self._generation:
            self._keys[prefix] = (generation, key)
        return key

    def _touch(self, key_id: str) -> None:
        """Note the key's use: stored off the request's path, at most once a minute per key."""
        monotonic = time.monotonic()
        if monotonic - self._key_last_used.get(key_id, -LAST_USED_EVERY_S) < LAST_USED_EVERY_S:
            return
        self._key_last_used[key_id] = monotonic
        task = asyncio.get_running_loop().create_task(self._store_last_used(key_id, utc_now()))
        self._touches.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._touches.discard)

    async def _store_last_used(self, key_id: str, when: datetime) -> None:
        statement = update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when)
        try:
            await self.db.write_in_thread(lambda session: session.execute(statement))
        except Exception:  # a hint that could not be stored: the request it came from has its answer
            logger.warning("could not store an API key's last use", exc_info=True)
