"""GET /health (alive) and GET /ready (every part usable)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from msgspec import Struct

from backend import __version__
from backend.errors import ServiceUnavailable, problem_responses
from backend.observability.readiness import ReadinessService


class Health(Struct):
    """The process is alive."""

    status: str
    version: str


class PartReadiness(Struct):
    """One part's readiness."""

    ok: bool
    detail: str


class Readiness(Struct):
    """Every part is usable."""

    status: str
    checks: dict[str, PartReadiness]


@get(
    "/health",
    summary="Liveness: the process answers",
    tags=["health"],
    opt={"public": "liveness probes carry no credentials", "exclude_from_auth": True},
    responses=problem_responses(rate_limited=False),
)
async def health() -> Health:
    """The backend process is up; says which version it runs."""
    return Health(status="ok", version=__version__)


@get(
    "/ready",
    summary="Readiness: database (and queue, cache) usable",
    tags=["health"],
    opt={"public": "readiness probes carry no credentials", "exclude_from_auth": True},
    responses=problem_responses(503, rate_limited=False),
)
async def ready(readiness: NamedDependency[ReadinessService]) -> Response[Readiness]:
    """200 when every part works; 503 problem+json naming the failing parts otherwise."""
    checks = await readiness.check()
    failing = sorted(name for name, part in checks.items() if not part.ok)
    parts = {name: PartReadiness(ok=part.ok, detail=part.detail) for name, part in checks.items()}
    if failing:
        raise ServiceUnavailable(
            f"not ready: {', '.join(failing)}",
            extra={"checks": {name: {"ok": p.ok, "detail": p.detail} for name, p in parts.items()}},
        )
    return Response(Readiness(status="ready", checks=parts))
