"""Parallel clients reading and writing records on a real `outpost serve`: no write lost, no page repeated."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.e2e.test_audit_concurrency import ADMIN, bearer, create_user

PARALLEL = 16
LOAD_SECONDS = 3.0
MIN_OPERATIONS = 40  # per client, however slow the machine
COLLECTIONS = "/api/v1/collections"
OTHER_ADMIN = ("second.admin@example.org", "a second long passphrase 9")
FIELDS = [
    {"name": "label", "type": "text"},
    {"name": "weight", "type": "integer"},
    {"name": "kind", "type": "select", "options": ["box", "crate", "drum"]},
    {"name": "fragile", "type": "boolean"},
    {"name": "seen_at", "type": "datetime"},
    {"name": "rank", "type": "integer"},
]


def records_url(collection: str) -> str:
    return f"{COLLECTIONS}/{collection}/records"


def parcel(rng: random.Random, **overrides: Any) -> dict[str, Any]:
    """Field values for one record, every field type set."""
    return {
        "label": f"parcel {rng.randrange(10**6)}",
        "weight": rng.randrange(1, 1000),
        "kind": rng.choice(["box", "crate", "drum"]),
        "fragile": rng.random() < 0.5,
        "seen_at": f"2026-11-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z",
        "rank": rng.randrange(3),
        **overrides,
    }


def same_values(record: dict[str, Any], values: dict[str, Any]) -> bool:
    return all(record[name] == value for name, value in values.items())


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with pytest.MonkeyPatch.context() as patch:
        # The load is the point here, not the per-principal limiter (whose 429 has its own tests).
        patch.setenv("OUTPOST_RATE_LIMIT_PER_MINUTE", str(10**6))
        process = BackendProcess(tmp_path_factory.mktemp("records") / "data")
    try:
        process.wait_ready()
        create_user(process.data_dir, *ADMIN, "admin")
        create_user(process.data_dir, *OTHER_ADMIN, "admin")
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def admin(backend: BackendProcess) -> dict[str, str]:
    return bearer(backend.url, *ADMIN)


@pytest.fixture(scope="module")
def other_admin(backend: BackendProcess) -> dict[str, str]:
    return bearer(backend.url, *OTHER_ADMIN)


def make_collection(backend: BackendProcess, admin: dict[str, str], name: str) -> None:
    created = httpx.post(f"{backend.url}{COLLECTIONS}", json={"name": name, "fields": FIELDS}, headers=admin)
    assert created.status_code == 201, created.text


def create_record(client: httpx.Client, collection: str, values: dict[str, Any]) -> dict[str, Any]:
    reply = client.post(records_url(collection), json=values)
    assert reply.status_code == 201, reply.text
    return reply.json()


class Ledger:
    """What one client's acknowledged writes say its records hold: their values, or None once deleted."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any] | None] = {}
        self.etags: dict[str, str] = {}
        self.statuses: Counter[int] = Counter()

    def live(self) -> list[str]:
        return [record_id for record_id, values in self.values.items() if values is not None]


def mixed_client(url: str, headers: dict[str, str], seed: int, until: float) -> Ledger:
    """80 % reads, 20 % writes (create, If-Match patch, If-Match delete) on this client's own records."""
    rng = random.Random(seed)
    ledger = Ledger()
    path = records_url("parcels")
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        while time.monotonic() < until or sum(ledger.statuses.values()) < MIN_OPERATIONS:
            live = ledger.live()
            if rng.random() < 0.8:
                if live and rng.random() < 0.5:
                    reply = client.get(f"{path}/{rng.choice(live)}")
                    assert reply.status_code == 200, reply.text
                else:
                    reply = client.get(path, params={"limit": 20, "sort": "-weight"})
                    assert reply.status_code == 200, reply.text
            elif not live or rng.random() < 0.5:
                values = parcel(rng)
                reply = client.post(path, json=values)
                assert reply.status_code == 201, reply.text
                ledger.values[reply.json()["id"]] = values
                ledger.etags[reply.json()["id"]] = reply.headers["ETag"]
            elif rng.random() < 0.75:
                record_id = rng.choice(live)
                change = {"weight": rng.randrange(1, 1000), "label": f"changed {rng.randrange(10**6)}"}
                reply = client.patch(f"{path}/{record_id}", json=change, headers={"If-Match": ledger.etags[record_id]})
                assert reply.status_code == 200, reply.text
                ledger.values[record_id] = {**ledger.values[record_id], **change}  # type: ignore[dict-item]
                ledger.etags[record_id] = reply.headers["ETag"]
            else:
                record_id = rng.choice(live)
                reply = client.delete(f"{path}/{record_id}", headers={"If-Match": ledger.etags[record_id]})
                assert reply.status_code == 204, reply.text
                ledger.values[record_id] = None
            ledger.statuses[reply.status_code] += 1
    return ledger


def test_mixed_load_loses_no_acknowledged_write_and_logs_each_record_once(
    backend: BackendProcess, admin: dict[str, str]
) -> None:
    make_collection(backend, admin, "parcels")
    until = time.monotonic() + LOAD_SECONDS
    with ThreadPoolExecutor(PARALLEL) as pool:
        ledgers = list(pool.map(lambda i: mixed_client(backend.url, admin, i, until), range(PARALLEL)))
    statuses = sum((ledger.statuses for ledger in ledgers), Counter())
    assert not [status for status in statuses if status >= 500]
    assert statuses[201] >= PARALLEL, statuses  # every client wrote
    expected = {record_id: values for ledger in ledgers for record_id, values in ledger.values.items()}
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
        for record_id, values in expected.items():
            reply = client.get(f"{records_url('parcels')}/{record_id}")
            if values is None:
                assert reply.status_code == 404, reply.text
            else:
                assert reply.status_code == 200, reply.text
                assert same_values(reply.json(), values), (reply.json(), values)
        listed = client.get(records_url("parcels"), params={"count": "true", "limit": 1}).json()["total"]
    assert listed == sum(values is not None for values in expected.values())

    assert backend.stop() == 0
    with sqlite3.connect(backend.data_dir / "outpost.db") as db:
        logged = db.execute(
            "SELECT record_id, count(*), max(op) FROM changes WHERE collection = 'parcels' AND NOT pushed "
            "GROUP BY record_id"
        ).fetchall()
    counts = {record_id: count for record_id, count, _op in logged}
    assert counts == dict.fromkeys(expected, 1)  # one unpushed change per record ever written, no other
    ops = {record_id: op for record_id, _count, op in logged}
    assert {record_id for record_id, op in ops.items() if op == "delete"} == {
        record_id for record_id, values in expected.items() if values is None
    }


@pytest.fixture(scope="module")
def running(backend: BackendProcess) -> BackendProcess:
    """The backend, started again if a test stopped it to read its database."""
    if backend.process.poll() is not None:
        restarted = BackendProcess(backend.data_dir)
        restarted.wait_ready()
        return restarted
    return backend


@pytest.fixture(scope="module")
def rest(running: BackendProcess) -> Iterator[tuple[BackendProcess, dict[str, str], dict[str, str]]]:
    """The running backend with both administrators signed in, for the tests after the load."""
    try:
        yield running, bearer(running.url, *ADMIN), bearer(running.url, *OTHER_ADMIN)
    finally:
        running.kill()


def test_parallel_patches_with_one_etag_let_exactly_one_through(rest: Any) -> None:
    backend, admin, _other = rest
    make_collection(backend, admin, "crates")
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
        created = client.post(records_url("crates"), json=parcel(random.Random(1)))
    etag, record_id = created.headers["ETag"], created.json()["id"]

    def patch(i: int) -> tuple[int, int]:
        reply = httpx.patch(
            f"{backend.url}{records_url('crates')}/{record_id}",
            json={"weight": 1000 + i},
            headers={**admin, "If-Match": etag},
            timeout=60,
        )
        return reply.status_code, i

    with ThreadPoolExecutor(PARALLEL) as pool:
        replies = list(pool.map(patch, range(PARALLEL)))
    assert Counter(status for status, _i in replies) == {200: 1, 412: PARALLEL - 1}
    winner = next(i for status, i in replies if status == 200)
    stored = httpx.get(f"{backend.url}{records_url('crates')}/{record_id}", headers=admin).json()
    assert stored["weight"] == 1000 + winner


def test_parallel_posts_with_one_idempotency_key_make_one_record(rest: Any) -> None:
    backend, admin, _other = rest
    make_collection(backend, admin, "drums")
    body = parcel(random.Random(2), label="once only")

    def post(_i: int) -> httpx.Response:
        headers = {**admin, "Idempotency-Key": "one-key-for-all"}
        return httpx.post(f"{backend.url}{records_url('drums')}", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(PARALLEL) as pool:
        replies = list(pool.map(post, range(PARALLEL)))
    assert not [r.text for r in replies if r.status_code >= 500]
    created = [r for r in replies if r.status_code == 201]
    assert created, [r.text for r in replies]
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    # A retry racing the first request may be told to come back (409), never given a second record.
    assert {r.status_code for r in replies} <= {201, 409}, [r.text for r in replies]
    listed = httpx.get(f"{backend.url}{records_url('drums')}", params={"count": "true"}, headers=admin).json()
    assert listed["total"] == 1
    assert [item["id"] for item in listed["items"]] == [created[0].json()["id"]]


def test_a_cursor_walk_during_inserts_sees_each_record_once(rest: Any) -> None:
    backend, admin, _other = rest
    make_collection(backend, admin, "pallets")
    rng = random.Random(3)
    with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
        before = {create_record(client, "pallets", parcel(rng))["id"] for _ in range(60)}
    walking = threading.Event()
    walked = threading.Event()

    def insert(seed: int) -> int:
        inner = random.Random(seed)
        count = 0
        with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
            assert walking.wait(60)
            while not walked.is_set():
                create_record(client, "pallets", parcel(inner))
                count += 1
        return count

    seen: list[str] = []
    with ThreadPoolExecutor(4) as pool:
        inserters = [pool.submit(insert, 100 + i) for i in range(4)]
        try:
            with httpx.Client(base_url=backend.url, headers=admin, timeout=60) as client:
                cursor = None
                walking.set()
                while True:
                    params = {"limit": 7, "sort": "rank", **({"cursor": cursor} if cursor else {})}
                    page = client.get(records_url("pallets"), params=params)
                    assert page.status_code == 200, page.text
                    seen += [item["id"] for item in page.json()["items"]]
                    cursor = page.json()["next_cursor"]
                    if not cursor:
                        break
        finally:
            walked.set()
        inserted = sum(future.result() for future in inserters)
    assert inserted > 0
    assert len(seen) == len(set(seen))  # nobody twice
    assert before <= set(seen)  # everyone who was there before the walk


def test_a_read_after_each_acknowledged_patch_sees_it(rest: Any) -> None:
    backend, admin, other = rest
    make_collection(backend, admin, "bins")
    rng = random.Random(4)

    def edit_and_check(seed: int) -> int:
        inner = random.Random(seed)
        with (
            httpx.Client(base_url=backend.url, headers=admin, timeout=60) as writer,
            httpx.Client(base_url=backend.url, headers=other, timeout=60) as reader,
        ):
            record = create_record(writer, "bins", parcel(inner))
            url = f"{records_url('bins')}/{record['id']}"
            assert reader.get(url).json()["weight"] == record["weight"]  # read once: a cache would hold it now
            for step in range(25):
                change = {"weight": step, "kind": inner.choice(["box", "crate", "drum"]), "fragile": step % 2 == 0}
                reply = writer.patch(url, json=change)
                assert reply.status_code == 200, reply.text
                seen = reader.get(url)
                assert seen.status_code == 200, seen.text
                assert same_values(seen.json(), change), (seen.json(), change)
                assert seen.headers["ETag"] == reply.headers["ETag"]
        return step

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(edit_and_check, (rng.randrange(10**6) for _ in range(8)))) == [24] * 8
