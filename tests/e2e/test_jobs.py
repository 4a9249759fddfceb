"""Jobs on a real `outpost serve`: parallel clients submit and cancel, and a SIGKILL mid-job loses no job."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.e2e.admin_backend import UNLIMITED, admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, audit_events, bearer
from tests.waiting import wait_until

CLIENTS = 8
JOBS_EACH = 5
FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with admin_backend(tmp_path_factory.mktemp("jobs") / "data", UNLIMITED) as process:
        yield process


def _job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    reply = http.get(f"/api/v1/jobs/{job_id}")
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _until(http: httpx.Client, job_id: str, check: Any, timeout_s: float = 60) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def holds() -> bool:
        seen.clear()
        seen.update(_job(http, job_id))
        return bool(check(seen))

    assert wait_until(holds, timeout_s=timeout_s, interval_s=0.05), seen
    return seen


def test_parallel_clients_submit_and_cancel_and_every_job_ends_once(backend: BackendProcess) -> None:
    admin = bearer(backend.url, *ADMIN)
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
        fields = [{"name": "label", "type": "text"}]
        assert http.post("/api/v1/collections", json={"name": "notes", "fields": fields}).status_code == 201
        for n in range(50):
            assert http.post("/api/v1/collections/notes/records", json={"label": f"note {n}"}).status_code == 201

    def client(n: int) -> list[tuple[str, bool]]:
        made = []
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
            for k in range(JOBS_EACH):
                if k % 2:
                    reply = http.post("/api/v1/collections/notes/export", json={"format": "jsonl"})
                else:
                    reply = http.post("/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 0.3}})
                assert reply.status_code == 202, reply.text
                cancel = (n + k) % 3 == 0
                if cancel:  # 200 if it had not ended yet, 409 if it had: never anything else
                    assert http.post(f"/api/v1/jobs/{reply.json()['id']}/cancel").status_code in (200, 409)
                made.append((reply.json()["id"], cancel))
        return made

    with ThreadPoolExecutor(CLIENTS) as pool:
        made = [job for batch in pool.map(client, range(CLIENTS)) for job in batch]
    assert len({job_id for job_id, _ in made}) == CLIENTS * JOBS_EACH
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
        ended = [_until(http, job_id, lambda job: job["state"] in FINISHED) for job_id, _ in made]
        for job, (_, cancelled) in zip(ended, made, strict=True):
            assert job["state"] == ("cancelled" if cancelled and job["state"] != "succeeded" else "succeeded"), job
            if job["kind"] == "export" and job["state"] == "succeeded":
                assert job["result"]["rows"] == 50
        listed: set[str] = set()
        cursor = None
        while True:
            page = http.get("/api/v1/jobs", params={"limit": 7, **({"cursor": cursor} if cursor else {})}).json()
            listed |= {job["id"] for job in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert {job_id for job_id, _ in made} <= listed
    submitted = {event["target"] for event in audit_events(backend.url, admin, "job.submit")}
    assert {job_id for job_id, _ in made} <= submitted


@contextmanager
def _restarted(data_dir: Path) -> Iterator[BackendProcess]:
    """outpost serve on a data dir that already has its administrator."""
    process = BackendProcess(data_dir)
    try:
        process.wait_ready()
        yield process
    finally:
        process.kill()


def _kill_and_restart(process: BackendProcess, data_dir: Path) -> BackendProcess:
    process.stop(signal.SIGKILL)
    again = BackendProcess(data_dir)
    again.wait_ready()
    return again


def test_a_job_killed_mid_run_is_retried_after_restart_then_failed_on_its_last_attempt(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with admin_backend(data_dir, UNLIMITED) as first:
        process = first
        try:
            http = httpx.Client(base_url=process.url, headers=bearer(process.url, *ADMIN), timeout=30)
            job_id = http.post("/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 30}}).json()["id"]
            _until(http, job_id, lambda job: job["state"] == "running" and job["progress"] > 0)
            process = _kill_and_restart(process, data_dir)
            http = httpx.Client(base_url=process.url, headers=bearer(process.url, *ADMIN), timeout=30)
            second = _until(http, job_id, lambda job: job["attempts"] == 2 and job["progress"] > 0)
            assert second["state"] == "running"
            assert "stopped during attempt 1" in (second["error"] or "")
            process = _kill_and_restart(process, data_dir)  # the wait kind has two attempts: that was its last
            http = httpx.Client(base_url=process.url, headers=bearer(process.url, *ADMIN), timeout=30)
            failed = _until(http, job_id, lambda job: job["state"] in FINISHED)
            assert failed["state"] == "failed"
            assert failed["error"].endswith("stopped during attempt 2, its last attempt")
        finally:
            process.kill()


def test_a_job_running_at_a_clean_stop_resumes_at_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with admin_backend(data_dir, UNLIMITED) as process:
        http = httpx.Client(base_url=process.url, headers=bearer(process.url, *ADMIN), timeout=30)
        job_id = http.post("/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 1}}).json()["id"]
        _until(http, job_id, lambda job: job["state"] == "running" and job["progress"] > 0)
        assert process.stop(signal.SIGTERM) == 0
    with _restarted(data_dir) as again:
        http = httpx.Client(base_url=again.url, headers=bearer(again.url, *ADMIN), timeout=30)
        done = _until(http, job_id, lambda job: job["state"] in FINISHED)
    assert (done["state"], done["attempts"]) == ("succeeded", 1)  # the stop did not cost it an attempt


def test_a_large_upload_imports_while_parallel_clients_write(backend: BackendProcess) -> None:
    admin = bearer(backend.url, *ADMIN)
    rows, text_bytes = 240, 100_000  # 24 MB: past Litestar's 10 MB default body limit and our JSON ones
    fields = [{"name": "n", "type": "integer", "unique": True}, {"name": "text", "type": "text"}]
    with httpx.Client(base_url=backend.url, headers=admin, timeout=120) as http:
        assert http.post("/api/v1/collections", json={"name": "bulk", "fields": fields}).status_code == 201
    body = "".join(f'{{"n": {n}, "text": "{chr(97 + n % 26) * text_bytes}"}}\n' for n in range(rows)).encode()
    assert len(body) > 20 * 1024 * 1024

    def writer(n: int) -> list[str]:
        made = []
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
            for k in range(25):
                reply = http.post("/api/v1/collections/bulk/records", json={"n": 10_000 + n * 100 + k, "text": "api"})
                assert reply.status_code == 201, reply.text
                made.append(reply.json()["id"])
        return made

    with ThreadPoolExecutor(5) as pool, httpx.Client(base_url=backend.url, headers=admin, timeout=120) as http:
        writes = [pool.submit(writer, n) for n in range(4)]
        started = http.post("/api/v1/collections/bulk/import", params={"format": "jsonl"}, content=body)
        assert started.status_code == 202, started.text
        made = [record_id for future in writes for record_id in future.result()]
        job = _until(http, started.json()["id"], lambda job: job["state"] in FINISHED, timeout_s=120)
        assert job["state"] == "succeeded", job
        assert (job["result"]["created"], job["result"]["problems"]) == (rows, 0)
        listed = http.get("/api/v1/collections/bulk/records", params={"count": "true", "limit": 1, "fields": "n"})
        assert listed.json()["total"] == rows + len(made)
        for record_id in made[::10]:
            assert http.get(f"/api/v1/collections/bulk/records/{record_id}").status_code == 200
        one = http.get("/api/v1/collections/bulk/records", params={"filter": "n = 7"}).json()["items"][0]
        assert one["text"] == "h" * text_bytes
