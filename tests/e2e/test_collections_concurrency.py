"""Parallel clients changing collections on a real `outpost serve`: no change lost, reads consistent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.e2e.admin_backend import admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, audit_events, bearer

PARALLEL = 8
URL = "/api/v1/collections"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with admin_backend(tmp_path_factory.mktemp("collections") / "data") as process:
        yield process


@pytest.fixture(scope="module")
def admin(backend: BackendProcess) -> dict[str, str]:
    return bearer(backend.url, *ADMIN)


def test_parallel_creates_of_one_name_make_one_collection(backend: BackendProcess, admin: dict[str, str]) -> None:
    def create(_i: int) -> int:
        body = {"name": "depots", "fields": [{"name": "code", "type": "text", "unique": True}]}
        return httpx.post(f"{backend.url}{URL}", json=body, headers=admin, timeout=60).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = Counter(pool.map(create, range(PARALLEL)))
    assert statuses == {201: 1, 409: PARALLEL - 1}


def test_parallel_field_additions_with_the_version_lose_nothing(backend: BackendProcess, admin: dict[str, str]) -> None:
    created = httpx.post(f"{backend.url}{URL}", json={"name": "sites", "fields": []}, headers=admin, timeout=60)
    assert created.status_code == 201, created.text
    seen_versions: list[tuple[int, int]] = []

    def add_field(i: int) -> int:
        attempts = 0
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
            while True:
                attempts += 1
                current = client.get(f"{URL}/sites").json()
                seen_versions.append((current["schema_version"], len(current["fields"])))
                fields = [*current["fields"], {"name": f"f{i}", "type": "integer", "indexed": True}]
                body = {"fields": fields, "schema_version": current["schema_version"]}
                reply = client.patch(f"{URL}/sites", json=body)
                if reply.status_code == 200:
                    return attempts
                assert reply.status_code == 409, reply.text  # someone else changed it first: read again

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(add_field, range(PARALLEL)))
    final = httpx.get(f"{backend.url}{URL}/sites", headers=admin).json()
    assert sorted(f["name"] for f in final["fields"]) == sorted(f"f{i}" for i in range(PARALLEL))
    assert final["schema_version"] == 1 + PARALLEL
    # Every read showed one consistent state: version n always with n - 1 fields.
    assert all(fields == version - 1 for version, fields in seen_versions)
    updates = [e for e in audit_events(backend.url, admin, "collection.update") if e["target"] == "collection:sites"]
    assert sorted(e["details"]["schema_version"] for e in updates) == list(range(2, 2 + PARALLEL))


def test_readers_during_a_rebuild_see_the_old_or_the_new_schema(backend: BackendProcess, admin: dict[str, str]) -> None:
    body = {"name": "gauges", "fields": [{"name": "reading", "type": "integer", "unique": True}]}
    created = httpx.post(f"{backend.url}{URL}", json=body, headers=admin, timeout=60).json()
    retyped = [{**created["fields"][0], "type": "number"}]

    def read(_i: int) -> tuple[int, str]:
        reply = httpx.get(f"{backend.url}{URL}/gauges", headers=admin, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()["schema_version"], reply.json()["fields"][0]["type"]

    with ThreadPoolExecutor(PARALLEL) as pool:
        change = pool.submit(
            httpx.patch, f"{backend.url}{URL}/gauges", json={"fields": retyped}, headers=admin, timeout=60
        )
        reads = list(pool.map(read, range(PARALLEL * 4)))
        assert change.result().status_code == 200, change.result().text
    assert set(reads) <= {(1, "integer"), (2, "number")}
    assert httpx.get(f"{backend.url}{URL}/gauges", headers=admin).json()["fields"][0]["type"] == "number"
