"""Where a lazy table's rows come from: one fetch request, one page back (the records API, or a test's source)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from desktop.api import ApiClient, ApiError
from desktop.models.json_decoder import OffThreadJson

SortKey = tuple[str, bool]  # (field, descending)
Sort = tuple[SortKey, ...]


def sort_param(sort: Sort, *, reverse: bool = False) -> str:
    """The API's sort text, with id as the named tiebreak so that the reversed order is the exact mirror."""
    keys = list(sort)
    if not any(name == "id" for name, _ in keys):
        keys.append(("id", False))
    return ",".join(("-" if descending != reverse else "") + name for name, descending in keys)


@dataclass(frozen=True)
class FetchRequest:
    """One page to fetch: order, filter, where it starts (an offset or a cursor), how many, whether to count."""

    sort: str
    filter: str = ""
    offset: int | None = None
    cursor: str | None = None
    limit: int = 200
    count: bool = False


@dataclass
class Page:
    """A page of rows: the items in the order asked, where the next page starts, and the total if counted."""

    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    total: int | None = None


Delivered = Callable[[Page | None, ApiError | None], None]


class RowSource(Protocol):
    """Anything that can answer a FetchRequest later, on the GUI thread, with a Page or an ApiError."""

    def fetch(self, request: FetchRequest, done: Delivered) -> None:
        """Start fetching; done(page, None) or done(None, error) runs later."""
        ...


class ApiRowSource:
    """A collection's records over the API; the reply's JSON is decoded off the GUI thread."""

    def __init__(self, api: ApiClient, collection: str, decoder: OffThreadJson | None = None) -> None:
        self.api = api
        self.collection = collection
        self.decoder = decoder or OffThreadJson(parent=api)

    def path(self, request: FetchRequest) -> str:
        """The list URL for request."""
        query: dict[str, Any] = {"limit": request.limit, "sort": request.sort}
        if request.filter:
            query["filter"] = request.filter
        if request.cursor is not None:
            query["cursor"] = request.cursor
        elif request.offset:
            query["offset"] = request.offset
        if request.count:
            query["count"] = "true"
        return f"/api/v1/collections/{quote(self.collection, safe='')}/records?{urlencode(query)}"

    def fetch(self, request: FetchRequest, done: Delivered) -> None:
        """GET the page; decode it on the pool; hand the Page (or the error) to done."""

        def decoded(data: Any, error: str | None) -> None:
            if error is not None or not isinstance(data, dict):
                done(None, ApiError(200, error or "The backend sent a list that is not an object.", type="decode"))
                return
            total = data.get("total")
            items = list(data.get("items") or [])
            done(Page(items, data.get("next_cursor"), total if isinstance(total, int) else None), None)

        self.api.get_bytes(
            self.path(request), lambda body: self.decoder.decode(body, decoded), lambda error: done(None, error)
        )
