"""/api/v1/collections/{name}/export and /import: a collection's records to and from a file, as background jobs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from backend.auth.access import PROTECTED, actor_of, requires
from backend.datadir import DIR_MODE, FILE_MODE
from backend.db.ids import new_id
from backend.errors import FieldError, ValidationFailed, problem_responses
from backend.jobs.schemas import ExportRequest, JobOut, job_out
from backend.jobs.service import JobService
from backend.list_query import optional_string
from backend.records.export import RecordExport
from backend.records.import_source import ImportMapping
from backend.records.service import RecordService
from backend.request_body import UPLOAD

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


Mapping = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,  # percent-encoded, it still fits the 8 KiB request line
        description='A JSON object from the file\'s columns (or keys) to field names, e.g. {"Site code": "code"}; '
        "by default each column named as a field (or id) fills it and the rest are ignored",
        schema_extra=optional_string(),
    ),
]


@post(
    "/api/v1/collections/{name:str}/import",
    summary="Import records from a CSV or JSON Lines file",
    tags=["jobs"],
    security=PROTECTED,
    opt={**requires("records:write:{name}"), UPLOAD: True},
    status_code=HTTP_202_ACCEPTED,
    responses=problem_responses(400, 401, 403, 404, 413, 422),
)
async def import_collection(
    request: AnyRequest,
    jobs: NamedDependency[JobService],
    records: NamedDependency[RecordService],
    name: CollectionName,
    file_format: Annotated[
        Literal["csv", "jsonl"], QueryParameter(name="format", description="How the file is written")
    ] = "csv",
    mode: Annotated[
        Literal["all_or_nothing", "skip_invalid"],
        QueryParameter(description="Refuse the whole file if a row is at fault, or import the rest and report them"),
    ] = "all_or_nothing",
    mapping: Mapping = None,
) -> JobOut:
    """The request body is the file itself (any Content-Type), streamed to disk: it may be far larger than
    any JSON body (up to max_upload_bytes). A job then writes its rows through the record service, a chunk
    per transaction; a row with the id of a record updates it. The job's result counts what was created,
    updated and skipped; its file (/api/v1/jobs/{id}/file) is the report of every problem: row, field, why.
    Audited."""
    shape = await records.shape(name)
    chosen = _mapping(mapping)
    if problems := ImportMapping(shape, chosen).problems():
        raise ValidationFailed(
            "The mapping names fields the collection lacks.",
            errors=[FieldError("mapping", problem) for problem in problems],
        )
    upload = f"{new_id()}.{file_format}"
    await _receive(request, request.app.state.settings.paths.imports / upload)
    params = {"collection": name, "format": file_format, "mode": mode, "mapping": chosen, "file": upload}
    return job_out(await jobs.submit(actor_of(request), "import", params))


def _mapping(text: str | None) -> dict[str, str] | None:
    if text is None or not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
        raise ValidationFailed(
            "The mapping is not valid.",
            errors=[FieldError("mapping", "must be a JSON object of column names to field names")],
        )
    return parsed


async def _receive(request: AnyRequest, target: Path) -> None:
    """Stream the request's body into target (owner-only); nothing is left behind if it fails."""
    os.makedirs(target.parent, mode=DIR_MODE, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        # Written here on the loop: a chunk goes to the OS's page cache in microseconds.
        async for chunk in request.stream():
            view = memoryview(chunk)
            while view:
                view = view[os.write(descriptor, view) :]
    except BaseException:
        os.unlink(target)
        raise
    finally:
        os.close(descriptor)
