"""/api/v1/demo: make the demo dataset from the console (in the background), and see how it goes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Meta, Struct

from backend.auth.access import PROTECTED, actor_of, requires
from backend.errors import problem_responses
from backend.records.demo_data import DemoSize
from backend.records.demo_run import DemoRun, DemoState

AnyRequest = Request[Any, Any, Any]


class DemoRequest(Struct, forbid_unknown_fields=True):
    """How much demo data: scale 1 makes 10 400 records (400 sites, 2 000 equipment, 8 000 inspections).

    More than that is the CLI's (`outpost demo --scale`): over the API a run must stay a minute or so.
    """

    scale: Annotated[float, Meta(gt=0, le=1, description="Times the default size, above 0 and at most 1")] = 1.0


class DemoStatus(Struct):
    """Where the demo run stands: idle, running, done (with the counts made) or failed (with why)."""

    state: str
    result: dict[str, Any] | None = None
    error: str | None = None


def _status(now: DemoState) -> DemoStatus:
    return DemoStatus(now.state, now.result, now.error)


def _run(state: State) -> DemoRun:
    return state.demo


class DemoController(Controller):
    """The demo dataset: sites, their equipment and inspections, with relations."""

    path = "/api/v1/demo"
    tags = ["collections"]
    security = PROTECTED

    @post(
        summary="Make the demo data",
        opt=requires("collections:write"),
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    )
    async def start_demo(self, request: AnyRequest, state: State, data: JSONBody[DemoRequest]) -> DemoStatus:
        """Start making the demo collections and records; 409 when they exist or a run is under way."""
        return _status(_run(state).start(state.data, actor_of(request), DemoSize.scaled(data.scale)))

    @get(summary="The demo run's state", opt=requires("collections:read"), responses=problem_responses(401, 403))
    async def demo_status(self, state: State) -> DemoStatus:
        """Idle, running, done with the counts made, or failed with the reason."""
        return _status(_run(state).now)
