"""Users: create (the first administrator too), edit, disable, reset passwords, assign roles."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import RefreshToken, Role, User, UserRole
from backend.auth.password_policy import password_problem
from backend.auth.passwords import PasswordHasher
from backend.auth.permissions import WILDCARD
from backend.auth.principals import PrincipalDirectory
from backend.db.engine import Database
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, NotFound, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def email_key(email: str) -> str:
    """The form under which emails are unique: trimmed, lower-cased."""
    return email.strip().lower()


@dataclass(frozen=True)
class UserView:
    """A user as the API shows it (never the hash)."""

    id: str
    email: str
    display_name: str
    is_active: bool
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


def check_email(email: str) -> str | None:
    """Why email is not usable, or None."""
    if not _EMAIL.match(email.strip()) or len(email.strip()) > 254:
        return "is not an email address"
    return None


async def revoke_sessions(session: AsyncSession, user_id: str, keep_family: str | None = None) -> None:
    """Revoke every refresh-token family of the user (but keep_family)."""
    query = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep_family:
        query = query.where(RefreshToken.family_id != keep_family)
    await session.execute(query.values(revoked_at=utc_now()))


class UserService:
    """Every change is audited in its own transaction and invalidates cached principals."""

    def __init__(self, db: Database, hasher: PasswordHasher, audit: AuditTrail, directory: PrincipalDirectory) -> None:
        self.db = db
        self.hasher = hasher
        self.audit = audit
        self.directory = directory

    async def count(self) -> int:
        """How many users exist."""
        async with self.db.read() as session:
            return int((await session.execute(select(func.count()).select_from(User))).scalar_one())

    async def _view(self, session: AsyncSession, user: User) -> UserView:
        roles = (
            await session.execute(
                select(UserRole.role_name).where(UserRole.user_id == user.id).order_by(UserRole.role_name)
            )
        ).scalars()
        return UserView(
            user.id,
            user.email,
            user.display_name,
            user.is_active,
            list(roles),
            user.created_at,
            user.updated_at,
            user.last_login_at,
        )

    async def list(self, *, query: str | None = None) -> list[UserView]:
        """Every user (optionally whose email or name contains query), by email."""
        statement = select(User).order_by(User.email_key)
        if query:
            statement = statement.where(
                User.email_key.icontains(query, autoescape=True) | User.display_name.icontains(query, autoescape=True)
            )
        async with self.db.read() as session:
            return [await self._view(session, user) for user in (await session.scalars(statement)).all()]

    async def get(self, user_id: str) -> UserView:
        """One user, or NotFound."""
        async with self.db.read() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
            return await self._view(session, user)

    async def find(self, email: str) -> UserView:
        """The user with this email (any case), or NotFound."""
        async with self.db.read() as session:
            user = (await session.execute(select(User).where(User.email_key == email_key(email)))).scalar_one_or_none()
            if user is None:
                raise NotFound(f"There is no user with the email {email}.")
            return await self._view(session, user)

    async def _check_roles(self, session: AsyncSession, roles: list[str]) -> None:
        known = set((await session.execute(select(Role.name).where(Role.name.in_(roles)))).scalars())
        unknown = [name for name in roles if name not in known]
        if unknown:
            raise ValidationFailed(
                "Unknown roles.", errors=[FieldError("roles", f"no such role: {', '.join(unknown)}")]
            )

    def _check_new(self, email: str, display_name: str, password: str) -> None:
        errors = []
        if problem := check_email(email):
            errors.append(FieldError("email", problem))
        if not display_name.strip():
            errors.append(FieldError("display_name", "must not be empty"))
        if problem := password_problem(password, email):
            errors.append(FieldError("password", problem))
        if errors:
            raise ValidationFailed("The user was not created: see errors.", errors=errors)

    async def create(
        self, actor: Actor, *, email: str, display_name: str, password: str, roles: list[str], first_admin: bool = False
    ) -> UserView:
        """A new active user; with first_admin, only while no user exists (the setup flow)."""
        display_name = display_name.strip() or email.split("@", 1)[0]
        self._check_new(email, display_name, password)
        password_hash = await self.hasher.hash_off_loop(password)
        now = utc_now()
        async with self.db.write() as session:
            if first_admin and (await session.execute(select(func.count()).select_from(User))).scalar_one():
                raise Conflict("An administrator already exists; sign in instead.")
            await self._check_roles(session, roles)
            key = email_key(email)
            if (await session.execute(select(User.id).where(User.email_key == key))).first():
                raise Conflict(
                    "A user with this email already exists.", errors=[FieldError("email", "is already taken")]
                )
            user = User(
                id=str(uuid.uuid4()),
                email=email.strip(),
                email_key=key,
                display_name=display_name,
                password_hash=password_hash,
                is_active=True,
                created_at=now,
                updated_at=now,
                password_changed_at=now,
            )
            session.add(user)
            session.add_all([UserRole(user_id=user.id, role_name=name) for name in dict.fromkeys(roles)])
            await session.flush()
            action = "setup.first_admin" if first_admin else "user.create"
            await self.audit.append(
                session, AuditEntry(action, actor, target=f"user:{user.email}", details={"roles": sorted(set(roles))})
            )
            view = await self._view(session, user)
        self.directory.invalidate()
        return view

    async def _admins_left(self, session: AsyncSession, without: str) -> int:
        admin_roles = [
            name
            for name, perms in (await session.execute(select(Role.name, Role.permissions))).all()
            if WILDCARD in perms
        ]
        query = (
            select(func.count(func.distinct(User.id)))
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.is_active.is_(True), User.id != without, UserRole.role_name.in_(admin_roles))
        )
        return int((await session.execute(query)).scalar_one())

    async def update(
        self,
        actor: Actor,
        user_id: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        roles: list[str] | None = None,
        is_active: bool | None = None,
    ) -> UserView:
        """Change the given fields; refuses to leave no active administrator."""
        errors = []
        if email is not None and (problem := check_email(email)):
            errors.append(FieldError("email", problem))
        if display_name is not None and not display_name.strip():
            errors.append(FieldError("display_name", "must not be empty"))
        if errors:
            raise ValidationFailed("The user was not changed: see errors.", errors=errors)
        changes: dict[str, object] = {}
        async with self.db.write() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
            was_admin = await self._still_admin(session, user)
            if email is not None and email_key(email) != user.email_key:
                if (await session.execute(select(User.id).where(User.email_key == email_key(email)))).first():
                    raise Conflict(
                        "A user with this email already exists.", errors=[FieldError("email", "is already taken")]
                    )
                changes["email"] = [user.email, email.strip()]
                user.email, user.email_key = email.strip(), email_key(email)
            if display_name is not None and display_name.strip() != user.display_name:
                changes["display_name"] = [user.display_name, display_name.strip()]
                user.display_name = display_name.strip()
            if roles is not None:
                await self._check_roles(session, roles)
                current = set(
                    (await session.execute(select(UserRole.role_name).where(UserRole.user_id == user_id))).scalars()
                )
                if current != set(roles):
                    changes["roles"] = [sorted(current), sorted(set(roles))]
                    for name in current - set(roles):
                        await session.delete(await session.get(UserRole, (user_id, name)))
                    session.add_all([UserRole(user_id=user_id, role_name=name) for name in set(roles) - current])
            if is_active is not None and is_active != user.is_active:
                changes["is_active"] = [user.is_active, is_active]
                user.is_active = is_active
                if not is_active:
                    await revoke_sessions(session, user_id)  # disabling ends every session at once
            if not changes:
                return await self._view(session, user)
            await session.flush()
            losing_admin = was_admin and not await self._still_admin(session, user)
            if losing_admin and await self._admins_left(session, without=user_id) == 0:
                raise Conflict("At least one active administrator must remain; this change would leave none.")
            user.updated_at = utc_now()
            action = "user.disable" if changes.get("is_active") == [True, False] else "user.update"
            await self.audit.append(session, AuditEntry(action, actor, target=f"user:{user.email}", details=changes))
            view = await self._view(session, user)
        self.directory.invalidate()
        return view

    async def _still_admin(self, session: AsyncSession, user: User) -> bool:
        if not user.is_active:
            return False
        names = list((await session.execute(select(UserRole.role_name).where(UserRole.user_id == user.id))).scalars())
        perms = (await session.execute(select(Role.permissions).where(Role.name.in_(names)))).scalars()
        return any(WILDCARD in granted for granted in perms)

    async def reset_password(self, actor: Actor, user_id: str, password: str) -> None:
        """Set a new password and end every session of the user."""
        async with self.db.read() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
        if problem := password_problem(password, user.email):
            raise ValidationFailed("The password was not changed.", errors=[FieldError("password", problem)])
        password_hash = await self.hasher.hash_off_loop(password)
        await self.store_password(actor, user_id, password_hash, action="user.reset_password")

    async def store_password(self, actor: Actor, user_id: str, password_hash: str, *, action: str) -> None:
        """Save a new hash, end the user's sessions, audit it."""
        now = utc_now()
        async with self.db.write() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
            user.password_hash, user.password_changed_at, user.updated_at = password_hash, now, now
            await revoke_sessions(session, user_id)
            await self.audit.append(session, AuditEntry(action, actor, target=f"user:{user.email}"))
        self.directory.invalidate()
