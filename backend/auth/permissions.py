"""Permissions (`resource:action[:collection]`), the built-in roles, and who holds what."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

WILDCARD = "*"

# Every permission a route can ask for; a role may also narrow records/collections to one collection.
CATALOGUE: dict[str, str] = {
    "system:read": "See the backend's version, data directory and database size",
    "settings:read": "See the backend's settings",
    "settings:write": "Save settings",
    "users:read": "List users and see their roles",
    "users:write": "Create, edit and disable users, reset passwords, assign roles",
    "roles:read": "List roles and their permissions",
    "roles:write": "Create, edit and delete custom roles",
    "api_keys:read": "List one's own API keys",
    "api_keys:write": "Create and revoke one's own API keys",
    "api_keys:manage": "List and revoke every user's API keys",
    "audit:read": "Read the audit log",
    "collections:read": "See collections and their schemas",
    "collections:write": "Create and change collections",
    "records:read": "Read records",
    "records:write": "Create, change and delete records",
    "cache:read": "See what the cache holds and how often it answers",
    "cache:write": "Empty the cache, or one collection's part of it",
    "jobs:read": "See background jobs (exports, imports, backups) and their progress",
    "jobs:write": "Cancel and retry background jobs",
    "backups:read": "List backups of the database",
    "backups:write": "Take backups",
    "backups:restore": "Restore the database from a backup (everything written since is set aside)",
}

# Resources whose permissions may carry a collection name as a third part.
PER_COLLECTION = frozenset({"records", "collections"})

_PERMISSION = re.compile(r"^(?P<resource>[a-z_]+):(?P<action>[a-z_]+)(?::(?P<collection>[a-z][a-z0-9_]{0,62}))?$")


def permission_problem(permission: str) -> str | None:
    """Why permission is not a valid permission string, or None when it is."""
    if permission == WILDCARD:
        return None
    match = _PERMISSION.match(permission)
    if match is None:
        return "is not of the form resource:action or resource:action:collection"
    base = f"{match['resource']}:{match['action']}"
    if base not in CATALOGUE:
        return f"{base} is not a known permission"
    if match["collection"] and match["resource"] not in PER_COLLECTION:
        return f"{match['resource']} permissions do not take a collection"
    return None


def grants(granted: str, needed: str) -> bool:
    """Whether holding `granted` allows `needed` (`records:write` allows `records:write:inspections`)."""
    if granted in (WILDCARD, needed):
        return True
    return needed.startswith(granted + ":") and granted.count(":") == 1


def allows(granted: Iterable[str], needed: str) -> bool:
    """Whether any granted permission allows needed."""
    return any(grants(one, needed) for one in granted)


def within(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The requested permissions that granted does not cover (empty when requested ⊆ granted)."""
    held = list(granted)
    outside = []
    for permission in requested:
        if permission == WILDCARD:
            if WILDCARD not in held:
                outside.append(permission)
        elif not allows(held, permission):
            outside.append(permission)
    return outside


PrincipalKind = Literal["user", "api_key", "system"]


@dataclass(frozen=True)
class Principal:
    """Who is making a request, and what they may do."""

    kind: PrincipalKind
    id: str
    label: str
    user_id: str | None
    permissions: frozenset[str]
    session_id: str | None = None  # the refresh-token family of a signed-in user
    token_id: str | None = None  # the access token's jti
    roles: tuple[str, ...] = field(default=())
    valid_after: datetime | None = None  # tokens issued before this (a password change) are void

    def can(self, needed: str) -> bool:
        """Whether this principal holds the permission."""
        return allows(self.permissions, needed)


SYSTEM = Principal(kind="system", id="system", label="system", user_id=None, permissions=frozenset({WILDCARD}))
