"""Setting the scene for the job pages' tests: demo data, jobs in chosen states, a condition waited on over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Console
from tests.desktop.test_console_frame import active_console
from tests.desktop.test_destructive_actions import admin_client

JOB_TIMEOUT_MS = 60_000
ASK_EVERY_S = 0.1  # a probe that makes an HTTP call is asked at most this often
DEMO_SCALE = 0.01  # 4 sites, 20 equipment, 80 inspections


@pytest.fixture
def any_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console's backend on a free port: these tests leave 8765 to the tests (run alongside) that check it."""
    monkeypatch.setenv("OUTPOST_PORT", "0")


def eventually(qtbot: QtBot, probe: Callable[[], bool], timeout: int = JOB_TIMEOUT_MS) -> None:
    """Wait (the event loop running) until probe() holds; probe makes HTTP calls, so it is asked ten times a second."""
    asked = [0.0]

    def check() -> bool:
        now = time.monotonic()
        if now - asked[0] < ASK_EVERY_S:
            return False
        asked[0] = now
        return probe()

    qtbot.waitUntil(check, timeout=timeout)


def job_state(client: httpx.Client, job_id: str) -> str:
    """The job's state, as the backend has it."""
    reply = client.get(f"/api/v1/jobs/{job_id}")
    assert reply.status_code == 200, reply.text
    return str(reply.json()["state"])


def job_in(qtbot: QtBot, client: httpx.Client, job_id: str, *states: str) -> None:
    """Wait until the job is in one of states."""
    eventually(qtbot, lambda: job_state(client, job_id) in states)


def submit(client: httpx.Client, path: str, body: Any = None) -> dict[str, Any]:
    """POST something that starts a job (202); the job."""
    reply = client.post(path, json=body) if body is not None else client.post(path)
    assert reply.status_code == 202, reply.text
    return dict(reply.json())


def wait_job(client: httpx.Client, seconds: float) -> dict[str, Any]:
    """A diagnostic job that runs this long, with progress, and can be cancelled."""
    return submit(client, "/api/v1/jobs", {"kind": "wait", "params": {"seconds": seconds}})


def signed_in_with_demo_data(qtbot: QtBot, console: Console) -> httpx.Client:
    """A signed-in console with the window active, and the demo collections made small; an admin HTTP client."""
    active_console(qtbot, console)
    client = admin_client(console)
    started = client.post("/api/v1/demo", json={"scale": DEMO_SCALE})
    assert started.status_code in (200, 202), started.text
    eventually(qtbot, lambda: client.get("/api/v1/demo").json()["state"] != "running")
    assert client.get("/api/v1/demo").json()["state"] == "done", client.get("/api/v1/demo").text
    return client


def record_count(client: httpx.Client, collection: str, filter_text: str | None = None) -> int:
    """How many records the collection holds (that the filter matches), as the backend counts them."""
    params = {"count": "true", "limit": "1", **({"filter": filter_text} if filter_text else {})}
    reply = client.get(f"/api/v1/collections/{collection}/records", params=params)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["total"])


def failed_export(qtbot: QtBot, client: httpx.Client) -> str:
    """An export that failed (its collection was deleted while it waited for a worker); its id.

    Enough long waits to keep every worker busy are queued first, then the export behind them; the collection
    goes, the waits are cancelled, and the export runs into the missing collection.
    """
    fields = [{"name": "site", "type": "text"}]
    assert client.post("/api/v1/collections", json={"name": "doomed", "fields": fields}).status_code == 201
    waits = [wait_job(client, 120)["id"] for _ in range(8)]  # more than any worker pool here
    job_in(qtbot, client, waits[0], "running")
    export = submit(client, "/api/v1/collections/doomed/export", {"format": "csv"})["id"]
    assert client.delete("/api/v1/collections/doomed").status_code == 204
    for wait in waits:
        assert client.post(f"/api/v1/jobs/{wait}/cancel").status_code in (200, 409)
    job_in(qtbot, client, export, "failed", "succeeded", "cancelled")
    assert job_state(client, export) == "failed"
    return str(export)
