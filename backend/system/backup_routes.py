"""/api/v1/backups: the database's backups, listed and taken now (as a job)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Struct

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import problem_responses
from backend.file_download import download
from backend.jobs.schemas import JobOut, job_out
from backend.jobs.service import JobService
from backend.jobs.tasks import SQLITE_MEDIA_TYPE
from backend.system.backups import BackupService

AnyRequest = Request[Any, Any, Any]


class BackupOut(Struct):
    """One backup file in the data directory's backups/."""

    name: str
    label: str  # backup (by hand or on schedule), pre-migrate-<revision>, pre-restore
    size_bytes: int
    created_at: datetime


class BackupController(Controller):
    """Backups of the database."""

    path = "/api/v1/backups"
    tags = ["backups"]
    security = PROTECTED

    @get(summary="Backups, newest first", opt=requires("backups:read"), responses=problem_responses(401, 403))
    async def list_backups(self, request: AnyRequest) -> list[BackupOut]:
        """Every backup in backups/, with its size and when it was taken."""
        service = BackupService(request.app.state.settings.paths)
        found = await asyncio.to_thread(service.list)
        return [BackupOut(info.name, info.label, info.size_bytes, info.created_at) for info in found]

    @get(
        "/{name:str}/file",
        summary="Download a backup",
        opt=requires("backups:read"),
        responses=problem_responses(401, 403, 404, 422),
        media_type=SQLITE_MEDIA_TYPE,
    )
    async def backup_file(
        self, request: AnyRequest, name: Annotated[str, Parameter(min_length=1, max_length=120)]
    ) -> Stream:
        """The backup's database file, as it was taken."""
        path = BackupService(request.app.state.settings.paths).path_of(name)
        return download(path, name, SQLITE_MEDIA_TYPE)

    @post(
        summary="Take a backup now",
        opt=requires("backups:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403),
    )
    async def create_backup(self, request: AnyRequest, jobs: NamedDependency[JobService]) -> JobOut:
        """A job that copies the database while writes go on, checks the copy, and prunes old backups. Audited."""
        return job_out(await jobs.submit(actor_of(request), "backup", {}))
