"""The record cache under parallel clients on a real `outpost serve`: no read after a 2xx write is stale."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.e2e.admin_backend import UNLIMITED, admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, bearer

WRITERS = 6
READERS = 6
ROUNDS = 25  # writes per writer
COLLECTIONS = "/api/v1/collections"
SITES = f"{COLLECTIONS}/sites/records"
VISITS = f"{COLLECTIONS}/visits/records"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with admin_backend(tmp_path_factory.mktemp("fresh") / "data", UNLIMITED) as process:
        yield process


def _created(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_every_read_after_a_write_sees_it_in_lists_counts_and_expansions(backend: BackendProcess) -> None:
    admin = bearer(backend.url, *ADMIN)
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
        _created(http.post(COLLECTIONS, json={"name": "sites", "fields": [{"name": "label", "type": "text"}]}))
        visit_fields = [
            {"name": "site", "type": "relation", "relation": {"collection": "sites", "on_delete": "cascade"}},
            {"name": "note", "type": "text"},
        ]
        _created(http.post(COLLECTIONS, json={"name": "visits", "fields": visit_fields}))
        pairs = []
        for n in range(WRITERS):
            site = _created(http.post(SITES, json={"label": f"w{n} r0"}))
            visit = _created(http.post(VISITS, json={"site": site["id"], "note": f"visit of w{n}"}))
            pairs.append((site["id"], visit["id"]))
    stop = threading.Event()

    def reader(n: int) -> int:
        """Keeps the same answers hot in the cache, so a stale one would be there to be served."""
        reads = 0
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
            while not stop.is_set():
                site_id, visit_id = pairs[n % WRITERS]
                assert client.get(SITES, params={"filter": f'id = "{site_id}"', "count": "true"}).status_code == 200
                assert client.get(f"{VISITS}/{visit_id}", params={"expand": "site"}).status_code == 200
                assert client.get(VISITS, params={"expand": "site", "sort": "note"}).status_code == 200
                reads += 3
        return reads

    def writer(n: int) -> list[str]:
        """Renames its site, then reads it back every way the cache answers; the stale reads it saw."""
        site_id, visit_id = pairs[n]
        stale = []
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
            for round_ in range(1, ROUNDS + 1):
                label = f"w{n} r{round_}"
                written = client.patch(f"{SITES}/{site_id}", json={"label": label})
                assert written.status_code == 200, written.text
                listed = client.get(SITES, params={"filter": f'id = "{site_id}"', "count": "true"}).json()
                if [item["label"] for item in listed["items"]] != [label] or listed["total"] != 1:
                    stale.append(f"list {label}: {listed}")
                expanded = client.get(f"{VISITS}/{visit_id}", params={"expand": "site"}).json()
                if expanded["expand"]["site"]["label"] != label:
                    stale.append(f"expanded get {label}: {expanded['expand']['site']['label']}")
                everything = client.get(VISITS, params={"expand": "site", "sort": "note"}).json()["items"]
                mine = [item["expand"]["site"]["label"] for item in everything if item["id"] == visit_id]
                if mine != [label]:
                    stale.append(f"expanded list {label}: {mine}")
        return stale

    with ThreadPoolExecutor(WRITERS + READERS) as pool:
        readers = [pool.submit(reader, n) for n in range(READERS)]
        writers = [pool.submit(writer, n) for n in range(WRITERS)]
        stale = [line for done in writers for line in done.result()]
        stop.set()
        reads = sum(done.result() for done in readers)
    assert stale == []
    assert reads > 0
    # The answers did come from the cache in between: hits were counted.
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as http:
        stats = http.get("/api/v1/cache").json()
        assert stats["hits"] > 0, stats
        # A delete cascades to the visit: its list answer, cached a moment ago, must not outlive it.
        site_id, visit_id = pairs[0]
        assert http.get(VISITS, params={"filter": f'id = "{visit_id}"'}).json()["items"]
        assert http.delete(f"{SITES}/{site_id}").status_code == 204
        assert http.get(VISITS, params={"filter": f'id = "{visit_id}"'}).json()["items"] == []
        assert http.get(f"{VISITS}/{visit_id}", params={"expand": "site"}).status_code == 404
