"""/api/v1/system and /api/v1/settings."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, patch
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from msgspec import UNSET, Meta, Struct, UnsetType

from backend.auth.access import PROTECTED, actor_of, grantor_of, requires
from backend.errors import problem_responses
from backend.settings import ADMIN_ONLY, MAX_BODY_BYTES, MAX_LIST_ITEMS, MAX_UPLOAD_BYTES, MIN_BODY_BYTES
from backend.system.info import SystemInfo
from backend.system.saved_settings import SavedSettingsService, SettingView

AnyRequest = Request[Any, Any, Any]
HostName = Annotated[str, Meta(min_length=1, max_length=253)]
Origin = Annotated[str, Meta(pattern=r"^https?://", max_length=2048)]


class SettingsChanges(Struct, forbid_unknown_fields=True):
    """Settings to save; null forgets the saved value. They apply on the next start."""

    allowed_hosts: Annotated[list[HostName], Meta(max_length=MAX_LIST_ITEMS)] | UnsetType | None = UNSET
    cors_origins: Annotated[list[Origin], Meta(max_length=MAX_LIST_ITEMS)] | UnsetType | None = UNSET
    sqlite_synchronous: Literal["FULL", "NORMAL"] | UnsetType | None = UNSET
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | UnsetType | None = UNSET
    max_body_bytes: Annotated[int, Meta(ge=MIN_BODY_BYTES, le=MAX_BODY_BYTES)] | UnsetType | None = UNSET
    max_upload_bytes: Annotated[int, Meta(ge=MIN_BODY_BYTES, le=MAX_UPLOAD_BYTES)] | UnsetType | None = UNSET
    rate_limit_per_minute: Annotated[int, Meta(ge=1, le=10_000_000)] | UnsetType | None = UNSET
    backup_interval_hours: Annotated[int, Meta(ge=0, le=24 * 365)] | UnsetType | None = UNSET
    backup_keep: Annotated[int, Meta(ge=1, le=10_000)] | UnsetType | None = UNSET
    jobs_keep_days: Annotated[int, Meta(ge=1, le=36_500)] | UnsetType | None = UNSET


class SettingsList(Struct):
    """All settings of this instance."""

    items: list[SettingView]


def _admin_only_refusal() -> ResponseSpec:
    description = (
        "Without settings:write; or changing a setting that can weaken security "
        f"({', '.join(sorted(ADMIN_ONLY))}) without the administrator permission (*). Refusals are audited."
    )
    return dataclasses.replace(problem_responses(403)[403], description=description)


class SystemController(Controller):
    """The running instance and its settings."""

    path = "/api/v1"
    tags = ["system"]
    security = PROTECTED

    @get(
        "/system",
        summary="Facts about the running backend",
        opt=requires("system:read"),
        responses=problem_responses(401, 403),
    )
    async def system(self, info: NamedDependency[SystemInfo]) -> SystemInfo:
        """Version, mode, data directory, database size and schema revision."""
        return info

    @get(
        "/settings",
        summary="Every setting with its value, source and pending change",
        opt=requires("settings:read"),
        responses=problem_responses(401, 403),
    )
    async def list_settings(self, saved_settings: NamedDependency[SavedSettingsService]) -> SettingsList:
        """Running values and where they come from; saved values apply on the next start."""
        return SettingsList(items=await saved_settings.view())

    @patch(
        "/settings",
        summary="Save settings for the next start",
        opt=requires("settings:write"),
        responses={
            **problem_responses(400, 401, 403, 413, 415, 422),
            403: _admin_only_refusal(),
        },
    )
    async def save_settings(
        self,
        request: AnyRequest,
        data: JSONBody[SettingsChanges],
        saved_settings: NamedDependency[SavedSettingsService],
    ) -> SettingsList:
        """Validate and save all the given settings, or none of them; every change is audited.

        Settings that can weaken security need the administrator permission (*), settings:write is not enough.
        """
        changes: dict[str, Any] = {
            name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET
        }
        views = await saved_settings.update(actor_of(request), changes, held=grantor_of(request))
        return SettingsList(items=views)
