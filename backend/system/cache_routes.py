"""/api/v1/cache: what the cache holds, and emptying it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get
from litestar.params import Parameter
from msgspec import Struct

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import problem_responses
from backend.list_query import optional_string
from backend.observability.audit import AuditEntry

AnyRequest = Request[Any, Any, Any]
COLLECTION_NAME = r"^[a-z][a-z0-9_]{0,62}$"  # as collections name them; system does not import that domain


class CacheReport(Struct):
    """The cache's entries, size on disk, and how often it answered since the backend started."""

    entries: int
    size_bytes: int
    hits: int
    misses: int
    hit_rate: float | None


class CacheController(Controller):
    """The shared cache of list pages and counts."""

    path = "/api/v1/cache"
    tags = ["system"]
    security = PROTECTED

    @get(
        "/",
        summary="Cache statistics",
        opt=requires("cache:read"),
        responses=problem_responses(401, 403),
    )
    async def report(self, request: AnyRequest) -> CacheReport:
        """Entries, bytes, hits and misses (hits and misses count from this backend's start)."""
        stats = request.app.state.cache.stats()
        return CacheReport(stats.entries, stats.size_bytes, stats.hits, stats.misses, stats.hit_rate)

    @delete(
        "/",
        summary="Empty the cache, or one collection's entries",
        opt=requires("cache:write"),
        responses=problem_responses(401, 403, 422),
    )
    async def purge(
        self,
        request: AnyRequest,
        collection: Annotated[
            str | None,
            Parameter(
                description="Only this collection's entries (all entries when absent)",
                pattern=COLLECTION_NAME,
                max_length=63,
                schema_extra=optional_string(pattern=COLLECTION_NAME, maxLength=63),
            ),
        ] = None,
    ) -> None:
        """Drop entries; answers are read from the database again afterwards. Audited."""
        dropped = request.app.state.cache.purge(collection)
        entry = AuditEntry("cache.purge", actor_of(request), target=collection or "*", details={"entries": dropped})
        await request.app.state.identity.audit.record(entry)
