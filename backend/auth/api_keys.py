"""API keys for programs: shown once, stored as a SHA-256 digest, scoped within their creator's rights."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from backend.auth.models import ApiKey, User
from backend.auth.permissions import Principal, permission_problem, within
from backend.auth.principals import API_KEY_MARK, PrincipalDirectory
from backend.auth.tokens import digest
from backend.db.engine import Database
from backend.db.paging import DEFAULT_LIMIT, CursorCodec, SortKey, keyset_page
from backend.db.types import utc_now, utc_range_problem
from backend.errors import FieldError, Forbidden, NotFound, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

KEY_ORDER = (SortKey(ApiKey.created_at, descending=True), SortKey(ApiKey.id, descending=True))


@dataclass(frozen=True)
class ApiKeyView:
    """An API key as listed: never its secret."""

    id: str
    name: str
    prefix: str
    owner_id: str
    owner_email: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _view(key: ApiKey, owner_email: str) -> ApiKeyView:
    return ApiKeyView(
        key.id,
        key.name,
        key.prefix,
        key.owner_id,
        owner_email,
        list(key.scopes),
        key.created_at,
        key.expires_at,
        key.last_used_at,
        key.revoked_at,
    )


class ApiKeyService:
    """Create, list and revoke API keys."""

    def __init__(self, db: Database, audit: AuditTrail, directory: PrincipalDirectory, cursors: CursorCodec) -> None:
        self.db = db
        self.cursors = cursors
        self.audit = audit
        self.directory = directory

    async def create(
        self, principal: Principal, actor: Actor, *, name: str, scopes: list[str], expires_at: datetime | None
    ) -> tuple[ApiKeyView, str]:
        """A new key for the signed-in person; the view and the key itself, which is never shown again."""
        if principal.kind != "user" or principal.user_id is None:
            reason = "API keys are created by a signed-in person, not by another API key"
            await self.audit.record(
                AuditEntry("access.denied", actor, "denied", "POST /api/v1/api-keys", {"reason": reason})
            )
            raise Forbidden(f"{reason}.")
        errors = []
        if not name.strip():
            errors.append(FieldError("name", "must not be empty"))
        if not scopes:
            errors.append(FieldError("scopes", "must list at least one permission"))
        bad = [f"{scope}: {problem}" for scope in scopes if (problem := permission_problem(scope))]
        if bad:
            errors.append(FieldError("scopes", "; ".join(bad)))
        elif outside := within(scopes, principal.permissions):
            errors.append(FieldError("scopes", f"outside your own permissions: {', '.join(outside)}"))
        if expires_at is not None and (problem := utc_range_problem(expires_at)):
            errors.append(FieldError("expires_at", problem))
        elif expires_at is not None and expires_at <= utc_now():
            errors.append(FieldError("expires_at", "must be in the future"))
        if errors:
            raise ValidationFailed("The API key was not created: see errors.", errors=errors)
        prefix = API_KEY_MARK + secrets.token_hex(4)
        secret = f"{prefix}_{secrets.token_urlsafe(32)}"  # 256 random bits after the prefix
        key = ApiKey(
            id=str(uuid.uuid4()),
            prefix=prefix,
            secret_digest=digest(secret),
            name=name.strip(),
            owner_id=principal.user_id,
            scopes=list(dict.fromkeys(scopes)),
            created_at=utc_now(),
            expires_at=expires_at,
        )
        async with self.db.write() as session:
            session.add(key)
            await self.audit.append(
                session,
                AuditEntry(
                    "api_key.create",
                    actor,
                    target=f"api_key:{prefix}",
                    details={"name": key.name, "scopes": key.scopes},
                ),
            )
        return _view(key, principal.label), secret

    async def page(
        self, principal: Principal, *, everyone: bool, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> tuple[list[ApiKeyView], str | None]:
        """A page of the principal's own keys, or of every key when everyone (api_keys:manage); newest first."""
        query = select(ApiKey, User.email).join(User, User.id == ApiKey.owner_id)
        if not everyone:
            query = query.where(ApiKey.owner_id == principal.user_id)
        async with self.db.read() as session:
            page = await keyset_page(
                session, query, keys=KEY_ORDER, codec=self.cursors, scope="api-keys", limit=limit, cursor=cursor
            )
        return [_view(key, email) for key, email in page.rows], page.next_cursor

    async def revoke(self, principal: Principal, actor: Actor, key_id: str) -> ApiKeyView:
        """Revoke a key: one's own, or anyone's with api_keys:manage."""
        async with self.db.write() as session:
            found = (
                await session.execute(
                    select(ApiKey, User.email).join(User, User.id == ApiKey.owner_id).where(ApiKey.id == key_id)
                )
            ).first()
            if found is None or (found[0].owner_id != principal.user_id and not principal.can("api_keys:manage")):
                raise NotFound(f"There is no API key {key_id} of yours.")
            key, email = found
            if key.revoked_at is None:
                key.revoked_at = utc_now()
                await self.audit.append(session, AuditEntry("api_key.revoke", actor, target=f"api_key:{key.prefix}"))
            view = _view(key, email)
        self.directory.invalidate()
        return view
