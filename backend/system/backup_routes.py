"""/api/v1/backups: the database's backups, listed, taken now (as a job), and restored."""

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
from backend.errors import Conflict, FieldError, ServiceUnavailable, ValidationFailed, problem_responses
from backend.file_download import download
from backend.jobs.schemas import JobOut, job_out
from backend.jobs.service import JobService
from backend.jobs.tasks import SQLITE_MEDIA_TYPE
from backend.observability.audit import AuditEntry
from backend.system.backups import BackupService
from backend.system.restore import RestoreRefused, RestoreRequest, check_restorable

AnyRequest = Request[Any, Any, Any]


class BackupOut(Struct):
    """One backup file in the data directory's backups/."""

    name: str
    label: str  # backup (by hand or on schedule), pre-migrate-<revision>, pre-restore
    size_bytes: int
    created_at: datetime


class RestoreOut(Struct):
    """A restore under way: the backend stops serving, restores, and serves again at the same address."""

    restoring: str  # the backup's name
    detail: str
    serving_since: datetime  # the run being replaced: GET /api/v1/system shows a later started_at once it is done


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

    @post(
        "/{name:str}/restore",
        summary="Restore the database from a backup",
        opt=requires("backups:restore"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403, 404, 409, 422, 503),
    )
    async def restore_backup(
        self, request: AnyRequest, name: Annotated[str, Parameter(min_length=1, max_length=120)]
    ) -> RestoreOut:
        """Replace the database with a backup. Audited.

        The backup is checked first (422 if it is damaged or from a newer Outpost). Then the backend stops
        serving: requests under way finish, new connections wait; jobs pause. It keeps the current database
        as a pre-restore backup, swaps in the backup, migrates it, and serves again at the same address,
        with every cache emptied. Sessions and keys are those of the backup; jobs it caught unfinished are
        cancelled. Writes made since the backup are in the pre-restore copy.
        """
        source = BackupService(request.app.state.settings.paths).path_of(name)
        try:
            await asyncio.to_thread(check_restorable, source)
        except RestoreRefused as refused:
            raise ValidationFailed(f"{name} cannot be restored.", errors=[FieldError("name", str(refused))]) from None
        restore_later = request.app.state.get("restore_later")
        if restore_later is None:  # an app served in-process (a test client): no server to stop and start again
            raise ServiceUnavailable("Only a backend started with `outpost serve` can restore while it runs.")
        actor = actor_of(request)
        if not restore_later(RestoreRequest(source, actor)):
            raise Conflict("The backend is already stopping, or restoring.")
        await request.app.state.identity.audit.record(AuditEntry("backup.restore.request", actor, target=name))
        return RestoreOut(
            name,
            "The backend restores the backup and serves again at the same address; requests wait meanwhile.",
            request.app.state.started_at,
        )
