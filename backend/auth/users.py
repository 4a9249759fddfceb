"""Users: create (the first administrator too), edit, disable, reset passwords, assign roles."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.emails import display_name_problem, email_key, email_problem, normal_form
from backend.auth.grants import (
    active_admins,
    refuse_beyond,
    refuse_if_no_admin_left,
    role_permissions,
    user_permissions,
)
from backend.auth.models import RefreshToken, Role, User, UserRole
from backend.auth.password_policy import password_problem
from backend.auth.passwords import PasswordHasher
from backend.auth.principals import PrincipalDirectory
from backend.db.engine import Database
from backend.db.paging import DEFAULT_LIMIT, CursorCodec, SortKey, keyset_page
from backend.db.point_reads import PointQuery
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, NotFound, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

__all__ = ["UserService", "UserView", "check_email", "email_key", "revoke_sessions"]
USER_ORDER = (SortKey(User.email_key), SortKey(User.id))


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
    return email_problem(email)


async def revoke_sessions(session: AsyncSession, user_id: str | None = None, family_id: str | None = None) -> set[str]:
    """Revoke the refresh tokens of every session of a user, or of one session; the session ids revoked.

    The caller hands the ids to PrincipalDirectory.note_sessions_revoked after COMMIT, which voids the
    sessions' access tokens too.
    """
    query = update(RefreshToken).where(RefreshToken.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(RefreshToken.user_id == user_id)
    if family_id is not None:
        query = query.where(RefreshToken.family_id == family_id)
    result = await session.execute(query.values(revoked_at=utc_now()).returning(RefreshToken.family_id))
    return set(result.scalars())


def _user_point_read(db: Database) -> PointQuery:
    """A user by id with its role names in order (one row per role), compiled once: one statement, one snapshot."""
    statement = (
        select(
            User.id,
            User.email,
            User.display_name,
            User.is_active,
            User.created_at,
            User.updated_at,
            User.last_login_at,
            UserRole.role_name,
        )
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(User.id == bindparam("id"))
        .order_by(UserRole.role_name)
    )
    return PointQuery.compile(statement, db.dialect)


class UserService:
    """Every change is audited in its own transaction and invalidates cached principals."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        audit: AuditTrail,
        directory: PrincipalDirectory,
        cursors: CursorCodec,
        on_created: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self._point_read: PointQuery | None = None  # compiled on first use
        self.cursors = cursors
        self.hasher = hasher
        self.audit = audit
        self.directory = directory
        self.on_created = on_created  # told after every new user (the setup token ends with the first)

    async def count(self) -> int:
        """How many users exist."""
        async with self.db.read() as session:
            return int((await session.execute(select(func.count()).select_from(User))).scalar_one())

    async def _view(self, session: AsyncSession, user: User) -> UserView:
        [view] = await self._views(session, [user])
        return view

    @staticmethod
    async def _views(session: AsyncSession, users: Sequence[User]) -> list[UserView]:
        """The users as the API shows them: every user's roles in one query, not one query per user."""
        roles: dict[str, list[str]] = {user.id: [] for user in users}
        if users:
            query = (
                select(UserRole.user_id, UserRole.role_name)
                .where(UserRole.user_id.in_(roles))
                .order_by(UserRole.role_name)
            )
            for user_id, role_name in (await session.execute(query)).all():
                roles[user_id].append(role_name)
        return [
            UserView(
                user.id,
                user.email,
                user.display_name,
                user.is_active,
                roles[user.id],
                user.created_at,
                user.updated_at,
                user.last_login_at,
            )
            for user in users
        ]

    @staticmethod
    def _matching(query: str | None) -> Select[tuple[User]]:
        statement = select(User)
        if query:
            statement = statement.where(
                # The key side is searched in the key's own form, so "JOSÉ" finds josé.
                User.email_key.icontains(email_key(query), autoescape=True)
                | User.display_name.icontains(normal_form(query), autoescape=True)
            )
        return statement

    async def list(self, *, query: str | None = None) -> list[UserView]:
        """Every user (optionally whose email or name contains query), by email."""
        async with self.db.read() as session:
            users = (await session.scalars(self._matching(query).order_by(*(k.ordered() for k in USER_ORDER)))).all()
            return await self._views(session, users)

    async def page(
        self, *, query: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> tuple[list[UserView], str | None]:
        """A page of users (optionally whose email or name contains query), by email; and the next cursor."""
        async with self.db.read() as session:
            page = await keyset_page(
                session,
                self._matching(query),
                keys=USER_ORDER,
                codec=self.cursors,
                scope="users",
                limit=limit,
                cursor=cursor,
            )
            return await self._views(session, [user for (user,) in page.rows]), page.next_cursor

    async def get(self, user_id: str) -> UserView:
        """One user, or NotFound: one precompiled primary-key read on the loop (see PointQuery)."""
        if self._point_read is None:
            self._point_read = _user_point_read(self.db)
        found = await self._point_read.rows(self.db, id=user_id)
        if not found:
            raise NotFound(f"There is no user {user_id}.")
        user_id_, email, display_name, is_active, created_at, updated_at, last_login_at, _ = found[0]
        roles = [row[-1] for row in found if row[-1] is not None]
        return UserView(user_id_, email, display_name, is_active, roles, created_at, updated_at, last_login_at)

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
        if problem := display_name_problem(display_name):
            errors.append(FieldError("display_name", problem))
        if problem := password_problem(password, email):
            errors.append(FieldError("password", problem))
        if errors:
            raise ValidationFailed("The user was not created: see errors.", errors=errors)

    async def create(
        self,
        actor: Actor,
        *,
        email: str,
        display_name: str,
        password: str,
        roles: list[str],
        first_admin: bool = False,
        grantor: frozenset[str] | None = None,
    ) -> UserView:
        """A new active user; with first_admin, only while no user exists (the setup flow).

        grantor: the creator's permissions; the roles given must not reach beyond them (None: the system).
        """
        if first_admin and await self.count():
            raise Conflict("An administrator already exists; sign in instead.")  # before judging the input
        display_name = display_name.strip() or email.strip().split("@", 1)[0]
        self._check_new(email, display_name, password)
        email, display_name = normal_form(email), normal_form(display_name)
        password_hash = await self.hasher.hash_off_loop(password)
        now = utc_now()
        async with self.db.write() as session:
            if first_admin and (await session.execute(select(func.count()).select_from(User))).scalar_one():
                raise Conflict("An administrator already exists; sign in instead.")
            await self._check_roles(session, roles)
            refuse_beyond(grantor, await role_permissions(session, roles), "give these roles")
            key = email_key(email)
            if (await session.execute(select(User.id).where(User.email_key == key))).first():
                raise Conflict(
                    "A user with this email already exists.", errors=[FieldError("email", "is already taken")]
                )
            user = User(
                id=str(uuid.uuid4()),
                email=email,
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
        self.on_created()
        return view

    async def update(
        self,
        actor: Actor,
        user_id: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        roles: list[str] | None = None,
        is_active: bool | None = None,
        grantor: frozenset[str] | None = None,
    ) -> UserView:
        """Change the given fields; refuses to leave no active administrator.

        grantor: the editor's permissions; one cannot edit a user who holds more, nor give roles beyond them.
        """
        errors = []
        if email is not None and (problem := check_email(email)):
            errors.append(FieldError("email", problem))
        if display_name is not None and (problem := display_name_problem(display_name)):
            errors.append(FieldError("display_name", problem))
        if errors:
            raise ValidationFailed("The user was not changed: see errors.", errors=errors)
        email = normal_form(email) if email is not None else None
        display_name = normal_form(display_name) if display_name is not None else None
        changes: dict[str, object] = {}
        ended: set[str] = set()
        async with self.db.write() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
            refuse_beyond(grantor, await user_permissions(session, user_id), "change a user who holds more than you")
            admins_before = await active_admins(session)
            if email is not None and email_key(email) != user.email_key:
                if (await session.execute(select(User.id).where(User.email_key == email_key(email)))).first():
                    raise Conflict(
                        "A user with this email already exists.", errors=[FieldError("email", "is already taken")]
                    )
                changes["email"] = [user.email, email]
                user.email, user.email_key = email, email_key(email)
            if display_name is not None and display_name != user.display_name:
                changes["display_name"] = [user.display_name, display_name]
                user.display_name = display_name
            if roles is not None:
                await self._check_roles(session, roles)
                refuse_beyond(grantor, await role_permissions(session, roles), "give these roles")
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
                    ended = await revoke_sessions(session, user_id)  # disabling ends every session at once
            if not changes:
                return await self._view(session, user)
            await refuse_if_no_admin_left(session, admins_before)
            user.updated_at = utc_now()
            action = "user.disable" if changes.get("is_active") == [True, False] else "user.update"
            await self.audit.append(session, AuditEntry(action, actor, target=f"user:{user.email}", details=changes))
            view = await self._view(session, user)
        self.directory.invalidate()
        self.directory.note_sessions_revoked(ended)
        return view

    async def reset_password(
        self, actor: Actor, user_id: str, password: str, grantor: frozenset[str] | None = None
    ) -> None:
        """Set a new password and end every session of the user (who must not hold more than the grantor)."""
        async with self.db.read() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"There is no user {user_id}.")
            held = await user_permissions(session, user_id)
        refuse_beyond(grantor, held, "reset the password of a user who holds more than you")
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
            ended = await revoke_sessions(session, user_id)
            await self.audit.append(session, AuditEntry(action, actor, target=f"user:{user.email}"))
        self.directory.invalidate()
        self.directory.note_sessions_revoked(ended)
