"""/api/v1/jobs: background jobs, their progress, cancelling and retrying them, and the files they made."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import Forbidden, NotFound, problem_responses
from backend.jobs.schemas import JobOut, JobPage, JobRequest, job_out
from backend.jobs.service import JobService, JobView
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit, optional_string

AnyRequest = Request[Any, Any, Any]
JobId = Annotated[str, Parameter(min_length=1, max_length=64, description="The job's id")]


class JobController(Controller):
    """Background jobs: exports, imports, backups."""

    path = "/api/v1/jobs"
    tags = ["jobs"]
    security = PROTECTED

    @get(summary="Jobs, newest first", opt=requires("jobs:read"), responses=problem_responses(400, 401, 403, 422))
    async def list_jobs(
        self,
        jobs: NamedDependency[JobService],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        job_state: Annotated[
            str | None,
            QueryParameter(
                name="state",  # "state" is a name Litestar keeps for the app's state
                description="Only jobs in this state",
                schema_extra=optional_string(enum=["queued", "running", "succeeded", "failed", "cancelled"]),
            ),
        ] = None,
        kind: Annotated[
            str | None, Parameter(max_length=40, description="Only jobs of this kind", schema_extra=optional_string())
        ] = None,
    ) -> JobPage:
        """Filter by state and kind; follow next_cursor for older jobs."""
        views, next_cursor = await jobs.page(limit=limit, cursor=cursor, state=job_state, kind=kind)
        return JobPage(items=[job_out(view) for view in views], next_cursor=next_cursor)

    @post(
        summary="Start a diagnostic job",
        opt=requires("jobs:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403, 413, 415, 422),
    )
    async def start_job(
        self, request: AnyRequest, jobs: NamedDependency[JobService], data: JSONBody[JobRequest]
    ) -> JobOut:
        """A "wait" job, which waits and reports progress: to check that jobs run here. Audited."""
        params = {"seconds": data.params.seconds}
        return job_out(await jobs.submit(actor_of(request), data.kind, params))

    @get("/{job_id:str}", summary="One job", opt=requires("jobs:read"), responses=problem_responses(401, 403, 404, 422))
    async def get_job(self, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """Its state, progress, error and result."""
        return job_out(await jobs.get(job_id))

    @post(
        "/{job_id:str}/cancel",
        summary="Cancel a job",
        opt=requires("jobs:write"),
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def cancel_job(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """A queued job never starts; a running one stops after the chunk it is on (409 if it has ended). Audited."""
        return job_out(await jobs.cancel(actor_of(request), job_id))

    @post(
        "/{job_id:str}/retry",
        summary="Run a failed job again",
        opt=requires("jobs:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def retry_job(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """A new job with the same kind and params (409 unless the job failed or was cancelled). Audited."""
        return job_out(await jobs.retry(actor_of(request), job_id))

    @get(
        "/{job_id:str}/file",
        summary="Download the file a job made",
        opt=requires("jobs:read"),
        responses=problem_responses(401, 403, 404, 422),
        media_type="application/octet-stream",
    )
    async def job_file(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> File:
        """An export's file, a backup, or an import's report of its bad rows (a failed import has one too).

        It needs the right to read what the file holds."""
        view = await jobs.get(job_id)
        kind = jobs.kinds.get(view.kind)
        name = (view.result or {}).get("file")
        if kind is None or kind.file is None or not isinstance(name, str):
            raise NotFound(f"Job {job_id} has made no file to download.")
        needed = kind.file.permission(view.params)
        if not request.user.can(needed):
            raise Forbidden(f"Not allowed: this file needs the permission {needed}.")
        path = _file(kind.file.folder(request.app.state.settings.paths), name)
        media_type = str((view.result or {}).get("media_type") or "application/octet-stream")
        return File(path=path, filename=_download_name(view, name), media_type=media_type)


def _file(folder: Path, name: str) -> Path:
    """The file name in folder, refusing any name that would lead out of it."""
    path = folder / Path(name).name
    if Path(name).name != name or not path.is_file():
        raise NotFound("The job's file is gone (exports and backups are removed after a while).")
    return path


def _download_name(view: JobView, name: str) -> str:
    """What the file is called when saved: "sites-20261207-031743.csv", a backup by its own name."""
    if view.kind != "export":
        return name
    when = view.finished_at or view.created_at
    return f"{view.params.get('collection', 'export')}-{when:%Y%m%d-%H%M%S}{Path(name).suffix}"
