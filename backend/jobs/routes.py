"""/api/v1/jobs: background jobs, their progress, cancelling and retrying them, and the files they made."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from backend.auth.access import PROTECTED, actor_of, requires
from backend.auth.permissions import WILDCARD
from backend.errors import Forbidden, NotFound, problem_responses
from backend.file_download import download, file_in
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
        request: AnyRequest,
        jobs: NamedDependency[JobService],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        job_state: Annotated[
            str | None,
            QueryParameter(
                name="state",  # "state" is a name Litestar keeps for the app's state
                max_length=64,
                description="Only jobs in these states, comma-separated: queued, running, succeeded, failed, cancelled",
                schema_extra=optional_string(),
            ),
        ] = None,
        kind: Annotated[
            str | None, Parameter(max_length=40, description="Only jobs of this kind", schema_extra=optional_string())
        ] = None,
    ) -> JobPage:
        """Filter by state and kind; follow next_cursor for older jobs."""
        states = [part.strip() for part in job_state.split(",") if part.strip()] if job_state else None
        views, next_cursor = await jobs.page(limit=limit, cursor=cursor, states=states, kind=kind)
        return JobPage(items=[_out(request, view) for view in views], next_cursor=next_cursor)

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
    async def get_job(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """Its state, progress, error and result."""
        return _out(request, await jobs.get(job_id))

    @post(
        "/{job_id:str}/cancel",
        summary="Cancel a job",
        opt=requires("jobs:write"),
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def cancel_job(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """A queued job never starts; a running one stops after the chunk it is on (409 if it has ended). Audited."""
        return _out(request, await jobs.cancel(actor_of(request), job_id))

    @post(
        "/{job_id:str}/retry",
        summary="Run a failed job again",
        opt=requires("jobs:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def retry_job(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> JobOut:
        """A new job with the same kind and params (409 unless the job failed or was cancelled). Audited."""
        return _out(request, await jobs.retry(actor_of(request), job_id))

    @get(
        "/{job_id:str}/file",
        summary="Download the file a job made",
        opt=requires("jobs:read"),
        responses=problem_responses(401, 403, 404, 422),
        media_type="application/octet-stream",
    )
    async def job_file(self, request: AnyRequest, jobs: NamedDependency[JobService], job_id: JobId) -> Stream:
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
        path = file_in(kind.file.folder(request.app.state.settings.paths), name)
        result = view.result or {}
        media_type = str(result.get("media_type") or "application/octet-stream")
        return download(path, str(result.get("download_name") or name), media_type)


def _out(request: AnyRequest, view: JobView) -> JobOut:
    return job_out(view, show_detail=request.user.can(WILDCARD))
