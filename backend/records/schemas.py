"""Request and response bodies of the record routes (a record itself is a free-form JSON object)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from backend.records.batch import MAX_OPERATIONS

CollectionNameText = Annotated[str, Meta(min_length=1, max_length=63)]


class RecordList(Struct, omit_defaults=True):
    """A page of records, the cursor of the next page (null on the last) and, if asked for, the total."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None


class BatchOperationIn(Struct, forbid_unknown_fields=True):
    """One write: POST (create), PATCH (change), PUT (replace) or DELETE, in a collection."""

    method: Literal["POST", "PATCH", "PUT", "DELETE"]
    collection: CollectionNameText
    id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    body: dict[str, Any] | None = None
    if_match: Annotated[str, Meta(max_length=1024, description="As the If-Match header of a single write")] | None = (
        None
    )


class BatchRequest(Struct, forbid_unknown_fields=True):
    """Operations carried out in order, all or none."""

    operations: Annotated[list[BatchOperationIn], Meta(min_length=1, max_length=MAX_OPERATIONS)]


class BatchResult(Struct):
    """One operation's outcome: the status a single request would have had, and its body."""

    status: int
    body: dict[str, Any] | None


class BatchReply(Struct):
    """Every operation's result, in order."""

    results: list[BatchResult]
