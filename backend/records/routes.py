"""/api/v1/collections/{name}/records and /api/v1/batch: records over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from backend.auth.access import PROTECTED, actor_of, authenticated, requires
from backend.auth.routes.reply_headers import LOCATION
from backend.errors import problem_responses
from backend.http_conditions import ETAG, IfMatch, etag_of
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit, optional_string
from backend.records.batch import BatchService, Operation
from backend.records.idempotency import KEY_MAX_LENGTH, REPLAYED_HEADER, IdempotentRequest, StoredReply, fingerprint
from backend.records.listing import MAX_OFFSET, ListQuery
from backend.records.schemas import BatchReply, BatchRequest, RecordList
from backend.records.service import RecordService

AnyRequest = Request[Any, Any, Any]
RECORD_BODY_LIMIT = 1024 * 1024
BATCH_BODY_LIMIT = 10 * 1024 * 1024  # the default ceiling (max_body_bytes) holds it anyway

CollectionName = Annotated[str, Parameter(min_length=1, max_length=63, description="The collection's name")]
RecordId = Annotated[str, Parameter(min_length=1, max_length=64, description="The record's id")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        description="A key unique to this request: a retry with the same key and body gets the first reply "
        "(kept 24 h, per principal); the same key with another body is refused (422)",
        schema_extra=optional_string(),
    ),
]
REPLAYED = ResponseHeader(
    name=REPLAYED_HEADER, documentation_only=True, description="true when this is the stored reply to a retry"
)


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _idempotent(request: AnyRequest, key: str | None, body: Any) -> IdempotentRequest | None:
    if key is None:
        return None
    principal = request.user
    return IdempotentRequest(
        f"{principal.kind}:{principal.id}", key, fingerprint(request.method, request.url.path, body)
    )


def _reply(stored: StoredReply) -> Response[Any]:
    headers = dict(stored.headers)
    if stored.replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(stored.body, status_code=stored.status, headers=headers)


def _with_etag(record: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(record, headers={"ETag": etag_of(record["_rev"])})


Sort = Annotated[
    str | None,
    Parameter(
        max_length=1000,
        description='Fields to order by, "-" for descending: "site,-created_at"; id is the last tiebreak',
        schema_extra=optional_string(),
    ),
]
Filter = Annotated[
    str | None, Parameter(max_length=4096, description="A filter expression", schema_extra=optional_string())
]
Fields = Annotated[
    str | None,
    Parameter(
        max_length=4096, description="Fields to return (system fields always come)", schema_extra=optional_string()
    ),
]
Expand = Annotated[
    str | None,
    Parameter(max_length=1000, description="Relation fields whose records to include", schema_extra=optional_string()),
]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Rows to skip (not with cursor; slower)")]


class RecordController(Controller):
    """The records of one collection."""

    path = "/api/v1/collections/{name:str}/records"
    tags = ["records"]
    security = PROTECTED

    @get(
        summary="List records",
        opt=requires("records:read:{name}"),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_records(
        self,
        request: AnyRequest,
        name: CollectionName,
        records: NamedDependency[RecordService],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        offset: Offset = 0,
        sort: Sort = None,
        filter: Filter = None,
        fields: Fields = None,
        count: Annotated[bool, Parameter(description="Include the total matching the filter")] = False,
        expand: Expand = None,
    ) -> RecordList:
        """Live records (never tombstones), filtered and sorted, NULLs last; follow next_cursor for the rest."""
        query = ListQuery(
            limit=limit,
            cursor=cursor,
            offset=offset,
            sort=sort,
            filter=filter,
            fields=_names(fields),
            count=count,
            expand=_names(expand) or (),
        )
        page = await records.list(actor_of(request), name, query, request.user)
        return RecordList(items=page.items, next_cursor=page.next_cursor, total=page.total)

    @post(
        summary="Create a record",
        opt=requires("records:write:{name}"),
        request_max_body_size=RECORD_BODY_LIMIT,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
        response_headers=[LOCATION, ETAG, REPLAYED],
    )
    async def create_record(
        self,
        request: AnyRequest,
        name: CollectionName,
        data: JSONBody[dict[str, Any]],
        records: NamedDependency[RecordService],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        """A new record from its fields (an "id", a UUID, may be given); 422 lists every field's problem."""
        stored = await records.create(
            actor_of(request), name, data, idempotent=_idempotent(request, idempotency_key, data)
        )
        return _reply(stored)

    @get(
        "/{record_id:str}",
        summary="One record",
        opt=requires("records:read:{name}"),
        responses=problem_responses(400, 401, 403, 404, 422),
        response_headers=[ETAG],
    )
    async def get_record(
        self,
        request: AnyRequest,
        name: CollectionName,
        record_id: RecordId,
        records: NamedDependency[RecordService],
        expand: Expand = None,
    ) -> Response[dict[str, Any]]:
        """A live record by id, with its ETag."""
        record = await records.get(actor_of(request), name, record_id, expand=_names(expand) or (), grants=request.user)
        return _with_etag(record)

    @patch(
        "/{record_id:str}",
        summary="Change some fields of a record",
        opt=requires("records:write:{name}"),
        request_max_body_size=RECORD_BODY_LIMIT,
        responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
        response_headers=[ETAG],
    )
    async def patch_record(
        self,
        request: AnyRequest,
        name: CollectionName,
        record_id: RecordId,
        data: JSONBody[dict[str, Any]],
        records: NamedDependency[RecordService],
        if_match: IfMatch = None,
    ) -> Response[dict[str, Any]]:
        """The fields given are set (null clears); with If-Match, only if the record is still at that ETag."""
        record = await records.update(actor_of(request), name, record_id, data, if_match=if_match)
        return _with_etag(record)

    @put(
        "/{record_id:str}",
        summary="Replace a record",
        opt=requires("records:write:{name}"),
        request_max_body_size=RECORD_BODY_LIMIT,
        responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
        response_headers=[ETAG],
    )
    async def replace_record(
        self,
        request: AnyRequest,
        name: CollectionName,
        record_id: RecordId,
        data: JSONBody[dict[str, Any]],
        records: NamedDependency[RecordService],
        if_match: IfMatch = None,
    ) -> Response[dict[str, Any]]:
        """Every field takes the body's value, or its default (else null) when left out."""
        record = await records.update(actor_of(request), name, record_id, data, replace=True, if_match=if_match)
        return _with_etag(record)

    @delete(
        "/{record_id:str}",
        summary="Delete a record",
        opt=requires("records:write:{name}"),
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(400, 401, 403, 404, 409, 412, 422),
    )
    async def delete_record(
        self,
        request: AnyRequest,
        name: CollectionName,
        record_id: RecordId,
        records: NamedDependency[RecordService],
        if_match: IfMatch = None,
    ) -> None:
        """A tombstone (sync carries it); records pointing here follow their relation's rule (restrict: 409)."""
        await records.delete(actor_of(request), name, record_id, if_match=if_match)


@post(
    "/api/v1/batch",
    summary="Write records across collections, all or nothing",
    tags=["records"],
    security=PROTECTED,
    opt=authenticated(),
    status_code=HTTP_200_OK,  # the batch's reply is a list of results, not a created resource (a POST's default 201)
    request_max_body_size=BATCH_BODY_LIMIT,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    response_headers=[REPLAYED],
)
async def batch_records(
    request: AnyRequest,
    data: JSONBody[BatchRequest],
    batch: NamedDependency[BatchService],
    idempotency_key: IdempotencyKey = None,
) -> Response[BatchReply]:
    """Operations in order in one transaction; each needs records:write on its collection. A failure names
    the operation (its index in "operation") and nothing is written."""
    operations = [Operation(one.method, one.collection, one.id, one.body, one.if_match) for one in data.operations]
    raw = await request.json()
    stored = await batch.run(
        actor_of(request), request.user, operations, idempotent=_idempotent(request, idempotency_key, raw)
    )
    return _reply(stored)
