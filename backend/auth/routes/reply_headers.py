"""Headers of replies that carry credentials or create something: no caching, and where the new thing is."""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from litestar.datastructures import CacheControlHeader, ResponseHeader

T = TypeVar("T")

# RFC 6749 §5.1: a reply carrying tokens or a secret is never stored; Pragma for HTTP/1.0 caches.
NO_STORE = CacheControlHeader(no_store=True)
PRAGMA_NO_CACHE = ResponseHeader(name="Pragma", value="no-cache", description="Older caches: do not store this")
LOCATION = ResponseHeader(name="Location", documentation_only=True, description="The path of the new resource")


def created(content: T, location: str) -> Response[T]:
    """A 201 reply with the new resource and its Location."""
    return Response(content, status_code=201, headers={"Location": location})
