"""/api/v1/collections: user-defined collections and their schemas."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody, Parameter
from msgspec import UNSET

from backend.auth.access import PROTECTED, actor_of, requires
from backend.auth.routes.reply_headers import LOCATION, created
from backend.collections.definition import NAME_PATTERN
from backend.collections.schemas import (
    ChangePreviewBody,
    CollectionBody,
    CollectionCreate,
    CollectionList,
    CollectionPatch,
    collection_body,
    preview_body,
)
from backend.collections.service import CollectionService
from backend.errors import problem_responses
from backend.list_query import DEFAULT_LIMIT, Cursor, Limit

AnyRequest = Request[Any, Any, Any]
Name = Annotated[str, Parameter(max_length=63, pattern=NAME_PATTERN.pattern, description="The collection's name")]

NO_RENAME = (
    " Collections cannot be renamed: the name is in the table (c_<name>), in permissions and API key scopes"
    " (records:write:<name>), in other collections' relations and in the change log that sync carries;"
    " create a new collection instead."
)


def _service(state: State) -> CollectionService:
    return state.collections


class CollectionController(Controller):
    """Collections: each a real table c_<name>, changed in place keeping its records."""

    path = "/api/v1/collections"
    tags = ["collections"]
    security = PROTECTED

    @get(summary="List collections", opt=requires("collections:read"), responses=problem_responses(400, 401, 403, 422))
    async def list_collections(
        self, state: State, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> CollectionList:
        """Collections by name, each with its live record count; follow next_cursor for the rest."""
        views, next_cursor = await _service(state).page(limit=limit, cursor=cursor)
        return CollectionList(items=[collection_body(view) for view in views], next_cursor=next_cursor)

    @post(
        summary="Create a collection",
        opt=requires("collections:write"),
        responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
        response_headers=[LOCATION],
    )
    async def create_collection(
        self, request: AnyRequest, state: State, data: JSONBody[CollectionCreate]
    ) -> Response[CollectionBody]:
        """A new collection and its table; 409 if the name is taken, 422 for a field that makes no sense."""
        view = await _service(state).create(
            actor_of(request),
            name=data.name,
            description=data.description,
            fields=[one.definition() for one in data.fields],
        )
        return created(collection_body(view), f"/api/v1/collections/{data.name}")

    @get(
        "/{name:str}",
        summary="One collection",
        opt=requires("collections:read:{name}"),
        responses=problem_responses(401, 403, 404, 422),
    )
    async def get_collection(self, state: State, name: Name) -> CollectionBody:
        """A collection's fields, schema version and live record count."""
        return collection_body(await _service(state).get(name))

    @patch(
        "/{name:str}",
        summary="Change a collection's fields or description",
        description=(
            "fields is the whole new list, in order: a field with an id is that field (a new name renames it and"
            " keeps its values), one without an id is added, an existing field left out is dropped. Lossless type"
            " changes only (integer to number, numbers to text, text to email/url/select when every value passes,"
            " a select to several, scalars to json); others answer 409. A change the stored records break"
            " (required while some are empty, unique while values repeat, tighter limits) answers 409 with"
            " `violations`: per field, how many records and a few of their ids. With ?dry_run=true nothing"
            " changes and the reply lists the changes, whether the table is rebuilt, and the violations."
            " Every change bumps schema_version; send the version you started from as schema_version to be"
            " refused (409) if someone else changed the collection meanwhile." + NO_RENAME
        ),
        opt=requires("collections:write:{name}"),
        responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def update_collection(
        self,
        request: AnyRequest,
        state: State,
        name: Name,
        data: JSONBody[CollectionPatch],
        dry_run: Annotated[bool, Parameter(description="Only say what would change")] = False,
    ) -> CollectionBody | ChangePreviewBody:
        """The collection as changed, or (dry run) what would change."""
        description = None if data.description is UNSET else data.description
        fields = None if data.fields is UNSET else [one.definition() for one in data.fields]
        expected = None if data.schema_version is UNSET else data.schema_version
        service = _service(state)
        if dry_run:
            preview = await service.preview(name, description=description, fields=fields, expected_version=expected)
            return preview_body(preview)
        view = await service.update(
            actor_of(request), name, description=description, fields=fields, expected_version=expected
        )
        return collection_body(view)

    @delete(
        "/{name:str}",
        summary="Delete a collection and its records",
        description="409 while a relation field of another collection points into it." + NO_RENAME,
        opt=requires("collections:write:{name}"),
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def delete_collection(self, request: AnyRequest, state: State, name: Name) -> None:
        """The table is dropped with every record."""
        await _service(state).delete(actor_of(request), name)
