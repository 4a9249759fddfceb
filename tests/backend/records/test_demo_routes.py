"""POST /api/v1/demo: the demo data made in the background, its state, refusals, and who may ask."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.waiting import wait_until

SMALL = {"scale": 0.01}  # 4 sites, 20 equipment, 80 inspections


def demo_state(client: TestClient[Litestar], headers: dict[str, str] | None = None) -> dict[str, Any]:
    reply = client.get("/api/v1/demo", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_demo_is_made_in_the_background_then_refused(client: TestClient[Litestar]) -> None:
    assert demo_state(client) == {"state": "idle", "result": None, "error": None}
    started = client.post("/api/v1/demo", json=SMALL)
    assert started.status_code == 202, started.text
    assert started.json()["state"] in {"running", "done"}
    assert wait_until(lambda: demo_state(client)["state"] != "running", timeout_s=60)
    done = demo_state(client)
    assert done["state"] == "done", done
    assert done["result"]["collections"] == {"sites": 4, "equipment": 20, "inspections": 80}
    counts = {c["name"]: c["record_count"] for c in client.get("/api/v1/collections").json()["items"]}
    assert counts == {"sites": 4, "equipment": 20, "inspections": 80}
    again = client.post("/api/v1/demo", json=SMALL)
    assert again.status_code == 409
    assert "there already" in again.json()["detail"]


def test_a_bad_scale_is_a_422_naming_the_field(client: TestClient[Litestar]) -> None:
    for body in ({"scale": 0}, {"scale": 1.5}, {"scale": "big"}, {"size": 1}):
        reply = client.post("/api/v1/demo", json=body)
        assert reply.status_code in {400, 422}, (body, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert demo_state(client)["state"] == "idle"


def test_making_the_demo_needs_collections_write(client: TestClient[Litestar]) -> None:
    made = client.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["collections:read"]})
    assert made.status_code == 201, made.text
    reader = {"X-API-Key": made.json()["key"]}
    del client.headers["Authorization"]  # the key alone speaks from here on
    refused = client.post("/api/v1/demo", json=SMALL, headers=reader)
    assert refused.status_code == 403, refused.text
    assert demo_state(client, reader)["state"] == "idle"
    assert client.get("/api/v1/demo").status_code == 401
