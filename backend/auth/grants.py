"""Who may hand out what: nobody grants more than they hold, and an active administrator always remains."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import Role, User, UserRole
from backend.auth.permissions import WILDCARD, within
from backend.errors import Conflict, Forbidden

NO_ADMIN_LEFT = "At least one active administrator must remain; this change would leave none."


async def active_admins(session: AsyncSession) -> int:
    """Active users holding a role with every permission."""
    admin_roles = [
        name for name, perms in (await session.execute(select(Role.name, Role.permissions))).all() if WILDCARD in perms
    ]
    query = (
        select(func.count(func.distinct(User.id)))
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.is_active.is_(True), UserRole.role_name.in_(admin_roles))
    )
    return int((await session.execute(query)).scalar_one())


async def refuse_if_no_admin_left(session: AsyncSession, before: int) -> None:
    """Conflict when a change inside this transaction took the last active administrator away."""
    await session.flush()
    if before > 0 and await active_admins(session) == 0:
        raise Conflict(NO_ADMIN_LEFT)


async def role_permissions(session: AsyncSession, roles: Iterable[str]) -> set[str]:
    """Every permission the named roles hold."""
    rows = (await session.execute(select(Role.permissions).where(Role.name.in_(list(roles))))).scalars()
    return {permission for granted in rows for permission in granted}


async def user_permissions(session: AsyncSession, user_id: str) -> set[str]:
    """Every permission a user holds through their roles."""
    names = (await session.execute(select(UserRole.role_name).where(UserRole.user_id == user_id))).scalars()
    return await role_permissions(session, names)


def refuse_beyond(grantor: frozenset[str] | None, permissions: Iterable[str], what: str) -> None:
    """Forbidden when permissions reach beyond what the grantor holds (None: the system, unbounded)."""
    if grantor is None:
        return
    outside = within(permissions, grantor)
    if outside:
        raise Forbidden(f"You cannot {what}: it needs permissions you do not hold ({', '.join(sorted(outside))}).")
