"""/api/v1/jobs and /api/v1/backups over HTTP: filters, who sees a traceback, files downloaded whole."""

from __future__ import annotations

import sqlite3
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.backend.jobs.test_export_api import _finished, _records


def _viewer(client: TestClient[Litestar]) -> dict[str, str]:
    user = {"email": "viewer@example.org", "display_name": "V", "password": "a long test passphrase 77",
            "roles": ["viewer"]}  # fmt: skip
    assert client.post("/api/v1/users", json=user).is_success
    signed_in = client.post("/api/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def _failed_export(client: TestClient[Litestar]) -> dict[str, Any]:
    """An export whose collection is gone by the time a worker takes it."""
    _records(client)
    queue = client.app.state.queue
    queue.stop_consumer()
    started = client.post("/api/v1/collections/sites/export", json={"format": "csv"})
    assert client.delete("/api/v1/collections/sites").status_code in (200, 204)
    queue.start_consumer()
    return _finished(client, started.json()["id"])


def test_a_traceback_is_shown_to_administrators_only(client: TestClient[Litestar]) -> None:
    job = _failed_export(client)
    assert (job["state"], job["attempts"]) == ("failed", 1)  # a missing collection is no passing fault
    assert "Traceback" in job["error_detail"]
    seen = client.get(f"/api/v1/jobs/{job['id']}", headers=_viewer(client)).json()
    assert seen["error"] == job["error"]
    assert seen["error_detail"] is None


def test_jobs_filter_by_several_states_and_refuse_an_unknown_one(client: TestClient[Litestar]) -> None:
    quick = client.post("/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 0}}).json()
    assert _finished(client, quick["id"])["state"] == "succeeded"
    slow = client.post("/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 60}}).json()
    active = client.get("/api/v1/jobs", params={"state": "queued,running", "kind": "wait"}).json()["items"]
    assert [job["id"] for job in active] == [slow["id"]]
    ended = client.get("/api/v1/jobs", params={"state": "succeeded, cancelled", "kind": "wait"}).json()["items"]
    assert [job["id"] for job in ended] == [quick["id"]]
    refused = client.get("/api/v1/jobs", params={"state": "running,lost"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"].startswith("lost is not a state")
    assert client.post(f"/api/v1/jobs/{slow['id']}/cancel").status_code == 200


def test_a_backup_is_listed_and_downloads_as_a_sound_database(client: TestClient[Litestar], tmp_path: Any) -> None:
    job = _finished(client, client.post("/api/v1/backups").json()["id"])
    assert job["state"] == "succeeded", job
    listed = client.get("/api/v1/backups").json()
    assert listed[0]["name"] == job["result"]["file"]
    reply = client.get(f"/api/v1/backups/{job['result']['file']}/file")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/octet-stream")
    assert int(reply.headers["content-length"]) == len(reply.content) == job["result"]["bytes"]
    saved = tmp_path / "copy.db"
    saved.write_bytes(reply.content)
    with sqlite3.connect(saved) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert client.get("/api/v1/backups/..%2Foutpost.db/file").status_code == 404
    assert client.get("/api/v1/backups/nothing-20260101T000000Z.db/file").status_code == 404


def test_a_restore_is_checked_before_the_backend_stops_and_needs_its_own_permission(
    client: TestClient[Litestar],
) -> None:
    job = _finished(client, client.post("/api/v1/backups").json()["id"])
    name = job["result"]["file"]
    paths = client.app.state.settings.paths
    damaged = paths.backups / "backup-20200101T000000Z.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    try:
        refused = client.post(f"/api/v1/backups/{damaged.name}/restore")
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "name"
    finally:
        damaged.unlink()
    assert client.post("/api/v1/backups/nothing-20260101T000000Z.db/restore").status_code == 404
    assert client.post(f"/api/v1/backups/{name}/restore", headers=_viewer(client)).status_code == 403
    # In-process there is no server to stop and start again: refused, and nothing changed.
    unavailable = client.post(f"/api/v1/backups/{name}/restore")
    assert unavailable.status_code == 503, unavailable.text
    assert "outpost serve" in unavailable.json()["detail"]
    assert not paths.restore_marker.exists()
