"""`outpost worker` processes over one PostgreSQL and Redis: they run what a serving instance was asked for,
and a worker killed mid-job loses nothing (another takes the job up once its lease runs out)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend_process import SOURCE_PROGRAM, BackendProcess
from tests.server_deployment import server_deployment_env
from tests.waiting import wait_until

ADMIN = {"email": "jobs-admin@example.org", "password": "jobs run where workers are"}
LEASE_S = "3"  # a dead worker's job is taken back within a few seconds, not the default thirty


@dataclass
class Deployment:
    api: BackendProcess
    workers: list[BackendProcess]
    headers: dict[str, str]

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api.url}/api/v1/jobs/{job_id}", headers=self.headers).json())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("server-workers")
    with server_deployment_env(root, ADMIN, OUTPOST_JOB_LEASE_S=LEASE_S) as env:
        api = BackendProcess(root / "api", env=env)
        workers = [start_worker(root / f"worker-{n}", env) for n in range(2)]
        try:
            for process in (api, *workers):
                process.wait_ready()
            tokens = httpx.post(f"{api.url}/api/v1/auth/login", json=ADMIN).json()
            yield Deployment(api, workers, {"Authorization": f"Bearer {tokens['access_token']}"})
        finally:
            for process in (api, *workers):
                process.kill()


def start_worker(data_dir: Path, env: dict[str, str]) -> BackendProcess:
    """`outpost worker` on its own data dir: a BackendProcess whose command is worker, not serve."""
    return BackendProcess(data_dir, program=SOURCE_PROGRAM, env=env, command="worker")


def test_jobs_asked_of_the_api_are_run_by_the_workers(deployment: Deployment) -> None:
    submitted = [
        httpx.post(
            f"{deployment.api.url}/api/v1/jobs",
            json={"kind": "wait", "params": {"seconds": 0.2}},
            headers=deployment.headers,
        ).json()["id"]
        for _ in range(6)
    ]
    assert wait_until(lambda: all(deployment.job(job_id)["state"] == "succeeded" for job_id in submitted), timeout_s=30)


def test_a_worker_killed_mid_job_loses_no_job(deployment: Deployment) -> None:
    job_id = httpx.post(
        f"{deployment.api.url}/api/v1/jobs",
        json={"kind": "wait", "params": {"seconds": 60}},
        headers=deployment.headers,
    ).json()["id"]
    assert wait_until(lambda: deployment.job(job_id)["state"] == "running", timeout_s=15)
    holder = deployment.job(job_id)["lease_owner"]
    [victim] = [worker for worker in deployment.workers if f":{worker.process.pid}:" in holder]
    victim.stop(signal.SIGKILL)
    # The other worker finds the lease run out, queues the job again and runs its second (last) attempt.
    assert wait_until(
        lambda: (job := deployment.job(job_id))["state"] == "running" and job["attempts"] == 2, timeout_s=20
    ), deployment.job(job_id)
    assert deployment.job(job_id)["lease_owner"] != holder
    cancelled = httpx.post(f"{deployment.api.url}/api/v1/jobs/{job_id}/cancel", headers=deployment.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert wait_until(lambda: deployment.job(job_id)["state"] == "cancelled", timeout_s=15)
