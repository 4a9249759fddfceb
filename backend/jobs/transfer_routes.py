"""/api/v1/collections/{name}/export: a collection's records to a file, as a background job."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import problem_responses
from backend.jobs.schemas import ExportRequest, JobOut, job_out
from backend.jobs.service import JobService
from backend.records.export import RecordExport
from backend.records.service import RecordService

AnyRequest = Request[Any, Any, Any]
CollectionName = Annotated[str, Parameter(min_length=1, max_length=63, description="The collection's name")]


@post(
    "/api/v1/collections/{name:str}/export",
    summary="Export a collection's records to a file",
    tags=["jobs"],
    security=PROTECTED,
    opt=requires("records:read:{name}"),
    status_code=HTTP_202_ACCEPTED,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
)
async def export_collection(
    request: AnyRequest,
    jobs: NamedDependency[JobService],
    records: NamedDependency[RecordService],
    name: CollectionName,
    data: JSONBody[ExportRequest],
) -> JobOut:
    """A job that writes the live records (filtered, if asked) as CSV or JSON Lines; download it from
    /api/v1/jobs/{id}/file when it has succeeded. The filter is checked now (400 if it is not valid). Audited."""
    shape = await records.shape(name)
    RecordExport(shape, data.filter, data.format).statement()  # a bad filter is refused here, not in the job
    params = {"collection": name, "format": data.format, "filter": data.filter}
    return job_out(await jobs.submit(actor_of(request), "export", params))
