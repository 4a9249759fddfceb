"""Request and response bodies of the identity routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from backend.auth.api_keys import ApiKeyView
from backend.auth.roles import RoleView
from backend.auth.users import UserView

Email = Annotated[str, Meta(min_length=3, max_length=254)]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
NewPassword = Annotated[str, Meta(min_length=12, max_length=256)]
DisplayName = Annotated[str, Meta(max_length=200)]
RoleName = Annotated[str, Meta(min_length=1, max_length=40)]
PermissionString = Annotated[str, Meta(min_length=1, max_length=200)]


DEVICE_TOKEN_HELP = (
    "The device_token of this client's last sign-in to this account, if it has one: then failed sign-ins "
    "count against that token alone, and others hammering the account cannot keep this client out. "
    "Keep it like a password (owner-only); a token for another account, expired or forged counts as none."
)


class Credentials(Struct, forbid_unknown_fields=True):
    """An email and a password, and this client's device token for the account if it holds one."""

    email: Email
    password: Password
    device_token: Annotated[str, Meta(min_length=1, max_length=1024, description=DEVICE_TOKEN_HELP)] | None = None


class FirstAdmin(Struct, forbid_unknown_fields=True):
    """The first administrator of a new instance."""

    email: Email
    password: NewPassword
    display_name: DisplayName = ""


class RefreshRequest(Struct, forbid_unknown_fields=True):
    """A refresh token to rotate."""

    refresh_token: Annotated[str, Meta(min_length=1, max_length=200)]


class PasswordChange(Struct, forbid_unknown_fields=True):
    """One's current password and the new one."""

    current_password: Password
    new_password: NewPassword


class Me(Struct):
    """The principal making the request."""

    kind: str
    id: str
    label: str
    user_id: str | None
    roles: list[str]
    permissions: list[str]


class SetupState(Struct):
    """Whether the instance still needs its first administrator."""

    needs_first_admin: bool


class UserList(Struct):
    """A page of users, by email, and the cursor of the next page (null on the last)."""

    items: list[UserView]
    next_cursor: str | None


class UserCreate(Struct, forbid_unknown_fields=True):
    """A new user."""

    email: Email
    password: NewPassword
    display_name: DisplayName = ""
    roles: Annotated[list[RoleName], Meta(max_length=50)] = []


class UserPatch(Struct, forbid_unknown_fields=True):
    """Fields of a user to change."""

    email: Email | UnsetType = UNSET
    display_name: DisplayName | UnsetType = UNSET
    roles: Annotated[list[RoleName], Meta(max_length=50)] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


class PasswordReset(Struct, forbid_unknown_fields=True):
    """A new password set by an administrator."""

    password: NewPassword


class RoleList(Struct):
    """A page of roles (built-in first), the cursor of the next page, and the permission catalogue."""

    items: list[RoleView]
    next_cursor: str | None
    permissions: dict[str, str]


class RoleCreate(Struct, forbid_unknown_fields=True):
    """A custom role."""

    name: RoleName
    permissions: Annotated[list[PermissionString], Meta(max_length=200)]
    description: Annotated[str, Meta(max_length=500)] = ""


class RolePatch(Struct, forbid_unknown_fields=True):
    """Fields of a custom role to change."""

    description: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    permissions: Annotated[list[PermissionString], Meta(max_length=200)] | UnsetType = UNSET


class ApiKeyCreated(Struct):
    """A new API key: `key` is shown this once and never again."""

    key: str
    api_key: ApiKeyView


class ApiKeyList(Struct):
    """A page of API keys, newest first, and the cursor of the next page (null on the last)."""

    items: list[ApiKeyView]
    next_cursor: str | None


class ApiKeyCreate(Struct, forbid_unknown_fields=True):
    """A new API key."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[PermissionString], Meta(min_length=1, max_length=200)]
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None
