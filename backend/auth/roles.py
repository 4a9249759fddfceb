"""Roles: the built-in ones (fixed) and custom ones with their permissions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.grants import active_admins, refuse_beyond, refuse_if_no_admin_left
from backend.auth.models import Role, UserRole
from backend.auth.permissions import CATALOGUE, permission_problem
from backend.auth.principals import PrincipalDirectory
from backend.db.engine import Database
from backend.db.paging import DEFAULT_LIMIT, CursorCodec, SortKey, keyset_page
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, NotFound, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
ROLE_ORDER = (SortKey(Role.builtin, descending=True), SortKey(Role.name))


@dataclass(frozen=True)
class RoleView:
    """A role, its permissions and how many users hold it."""

    name: str
    description: str
    permissions: list[str]
    builtin: bool
    users: int
    created_at: datetime
    updated_at: datetime


def _with_holders() -> Select[tuple[Role, int]]:
    """Roles with how many users hold each."""
    holders = func.count(UserRole.user_id)
    return select(Role, holders).outerjoin(UserRole, UserRole.role_name == Role.name).group_by(Role.name)


def _check_permissions(permissions: list[str]) -> None:
    bad = [f"{p}: {problem}" for p in permissions if (problem := permission_problem(p))]
    if bad:
        raise ValidationFailed("Unknown permissions.", errors=[FieldError("permissions", "; ".join(bad))])


async def _custom_role(session: AsyncSession, name: str, refused: str) -> Role:
    """The custom role to change: NotFound if none, Conflict for a built-in one ('cannot be <refused>')."""
    role = await session.get(Role, name)
    if role is None:
        raise NotFound(f"There is no role {name}.")
    if role.builtin:
        raise Conflict(f"{name} is a built-in role and cannot be {refused}.")
    return role


class RoleService:
    """Lists and changes roles; built-in roles are read-only."""

    def __init__(self, db: Database, audit: AuditTrail, directory: PrincipalDirectory, cursors: CursorCodec) -> None:
        self.db = db
        self.cursors = cursors
        self.audit = audit
        self.directory = directory

    @staticmethod
    def catalogue() -> dict[str, str]:
        """Every permission and what it allows."""
        return dict(CATALOGUE)

    async def page(self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> tuple[list[RoleView], str | None]:
        """A page of roles, built-in first, then by name; and the next cursor."""
        async with self.db.read() as session:
            page = await keyset_page(
                session, _with_holders(), keys=ROLE_ORDER, codec=self.cursors, scope="roles", limit=limit, cursor=cursor
            )
        return [self._view(role, count) for role, count in page.rows], page.next_cursor

    @staticmethod
    def _view(role: Role, users: int) -> RoleView:
        return RoleView(
            role.name, role.description, list(role.permissions), role.builtin, users, role.created_at, role.updated_at
        )

    async def get(self, name: str) -> RoleView:
        """One role, or NotFound."""
        async with self.db.read() as session:
            found = (await session.execute(_with_holders().where(Role.name == name))).first()
        if found is None:
            raise NotFound(f"There is no role {name}.")
        return self._view(*found)

    async def create(
        self,
        actor: Actor,
        *,
        name: str,
        description: str,
        permissions: list[str],
        grantor: frozenset[str] | None = None,
    ) -> RoleView:
        """A custom role, holding nothing beyond its creator's permissions (grantor; None: the system)."""
        if not ROLE_NAME.match(name):
            raise ValidationFailed(
                "The role was not created.",
                errors=[FieldError("name", "must be 2-40 lower-case letters, digits, - or _, starting with a letter")],
            )
        _check_permissions(permissions)
        refuse_beyond(grantor, permissions, "create a role with these permissions")
        now = utc_now()
        async with self.db.write() as session:
            if await session.get(Role, name) is not None:
                raise Conflict(f"A role named {name} exists.", errors=[FieldError("name", "is already taken")])
            role = Role(
                name=name,
                description=description.strip(),
                permissions=list(dict.fromkeys(permissions)),
                builtin=False,
                created_at=now,
                updated_at=now,
            )
            session.add(role)
            await self.audit.append(
                session,
                AuditEntry("role.create", actor, target=f"role:{name}", details={"permissions": role.permissions}),
            )
        return self._view(role, 0)

    async def update(
        self,
        actor: Actor,
        name: str,
        *,
        description: str | None,
        permissions: list[str] | None,
        grantor: frozenset[str] | None = None,
    ) -> RoleView:
        """Change a custom role's description or permissions; takes effect on its holders' next request.

        One cannot change a role that holds, or would hold, more than oneself (grantor; None: the system).
        """
        if permissions is not None:
            _check_permissions(permissions)
        async with self.db.write() as session:
            admins_before = await active_admins(session)
            role = await _custom_role(session, name, "changed; make a custom role instead")
            refuse_beyond(grantor, [*role.permissions, *(permissions or [])], "change a role beyond your permissions")
            details: dict[str, object] = {}
            if description is not None and description.strip() != role.description:
                details["description"] = [role.description, description.strip()]
                role.description = description.strip()
            if permissions is not None and list(dict.fromkeys(permissions)) != role.permissions:
                details["permissions"] = [role.permissions, list(dict.fromkeys(permissions))]
                role.permissions = list(dict.fromkeys(permissions))
                await refuse_if_no_admin_left(session, admins_before)
            if details:
                role.updated_at = utc_now()
                await self.audit.append(
                    session, AuditEntry("role.update", actor, target=f"role:{name}", details=details)
                )
        self.directory.invalidate()
        return await self.get(name)

    async def delete(self, actor: Actor, name: str, grantor: frozenset[str] | None = None) -> None:
        """Delete a custom role; its holders lose it."""
        async with self.db.write() as session:
            admins_before = await active_admins(session)
            role = await _custom_role(session, name, "deleted")
            refuse_beyond(grantor, role.permissions, "delete a role that holds more than you")
            await session.delete(role)
            await refuse_if_no_admin_left(session, admins_before)
            await self.audit.append(session, AuditEntry("role.delete", actor, target=f"role:{name}"))
        self.directory.invalidate()
