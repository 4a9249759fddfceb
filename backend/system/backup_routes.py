"""/api/v1/backups: the database's backups, listed and taken now (as a job)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Struct

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import problem_responses
from backend.jobs.schemas import JobOut, job_out
from backend.jobs.service import JobService
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

    @post(
        summary="Take a backup now",
        opt=requires("backups:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403),
    )
    async def create_backup(self, request: AnyRequest, jobs: NamedDependency[JobService]) -> JobOut:
        """A job that copies the database while writes go on, checks the copy, and prunes old backups. Audited."""
        return job_out(await jobs.submit(actor_of(request), "backup", {}))
