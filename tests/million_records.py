"""A data dir with a collection of a million records: made through the API, its rows bulk-written while stopped.

Creating a million records through the API takes minutes; here the collection and one record are made by a
real `outpost serve`, the server stops, and the rest are written into the collection's table with one
`executemany`, in the exact form the record service writes (the API's record is the template). Row n has
a deterministic UUIDv7 id that sorts by n, so a reader can tell which record belongs at each position.
The bulk rows have no change-log entries: they stand for data that came before sync, fine for reading.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from backend.datadir import DataDir
from backend.sync.clock import Hlc
from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL as EMAIL
from tests.conftest import ADMIN_PASSWORD as PASSWORD

COLLECTION = "million"
STATUSES = ("open", "closed", "waiting")
FIELDS = [
    {"name": "n", "type": "integer", "required": True},
    {"name": "title", "type": "text", "required": True},
    {"name": "status", "type": "select", "options": list(STATUSES)},
    {"name": "score", "type": "number"},
]
EPOCH_MS = 1_767_225_600_000  # 2026-01-01: the ids' time, one millisecond per 4096 rows


def record_id(n: int) -> str:
    """Row n's id: a UUIDv7 whose time and counter are n, so ids sort as n does."""
    unix_ms, seq = EPOCH_MS + n // 4096, n % 4096
    digits = f"{unix_ms << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | n:032x}"  # uuid.UUID's str, 4x faster
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def row_number(record_id_text: str) -> int:
    """The n of an id made by record_id (ValueError for any other id)."""
    value = uuid.UUID(record_id_text).int
    n = value & ((1 << 62) - 1)
    if record_id(n) != record_id_text:
        raise ValueError(f"{record_id_text} is not a seeded id")
    return n


def fields_of(n: int) -> tuple[int, str, str, float]:
    """Row n's field values (n, title, status, score)."""
    return n, f"record {n}", STATUSES[n % 3], n / 8


@dataclass
class Seeded:
    """A data dir holding a collection of `rows` records, and the administrator who can read them."""

    data_dir: Path
    rows: int
    seconds: float  # how long the bulk write took
    email: str = EMAIL
    password: str = PASSWORD


def _first_admin(base: str, data_dir: Path) -> dict[str, str]:
    token = {"X-Setup-Token": DataDir(data_dir).setup_token.read_text()}
    credentials = {"email": EMAIL, "password": PASSWORD}
    httpx.post(f"{base}/api/v1/setup", json=credentials, headers=token, timeout=30).raise_for_status()
    login = httpx.post(f"{base}/api/v1/auth/login", json=credentials, timeout=30)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def seed(data_dir: Path, rows: int) -> Seeded:
    """Make the collection and its first record over the API, stop the server, write the other rows."""
    backend = BackendProcess(data_dir)
    try:
        backend.wait_ready()
        headers = _first_admin(backend.url, data_dir)
        made = httpx.post(
            f"{backend.url}/api/v1/collections", json={"name": COLLECTION, "fields": FIELDS}, headers=headers
        )
        assert made.status_code == 201, made.text
        n, title, status, score = fields_of(0)
        body = {"n": n, "title": title, "status": status, "score": score}
        first = httpx.post(f"{backend.url}/api/v1/collections/{COLLECTION}/records", json=body, headers=headers)
        assert first.status_code == 201, first.text
    finally:
        assert backend.stop() == 0, "\n".join(backend.stderr_lines[-20:])
    started = time.perf_counter()
    with sqlite3.connect(data_dir / "outpost.db") as connection:
        connection.execute("PRAGMA synchronous = OFF")  # a test's scratch file: a crash here loses nothing
        template = connection.execute(
            f"SELECT id, created_at, created_by, _hlc, _origin FROM c_{COLLECTION}"
        ).fetchone()
        api_id, created_at, created_by, hlc, origin = template
        # The API's record becomes row 0, so every row has a seeded id and its place in id order.
        connection.execute(f"UPDATE c_{COLLECTION} SET id = ? WHERE id = ?", (record_id(0), api_id))
        node = Hlc.parse(hlc).node_id
        wall = datetime.strptime(created_at, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp() * 1000

        def clock(i: int) -> str:  # Hlc's text form, without building one Hlc per row
            return f"{int(wall) + i // 4096:012x}-{i % 4096:04x}-{node}"

        assert clock(4097) == str(Hlc(int(wall) + 1, 1, node))
        connection.executemany(
            f"INSERT INTO c_{COLLECTION} (id, created_at, updated_at, created_by, updated_by, _version, _hlc,"
            " _origin, _deleted, n, title, status, score) VALUES (?, ?, ?, ?, ?, 0, ?, ?, 0, ?, ?, ?, ?)",
            (
                (record_id(i), created_at, created_at, created_by, created_by, clock(i), origin, *fields_of(i))
                for i in range(1, rows)
            ),
        )
    return Seeded(data_dir, rows, time.perf_counter() - started)


@contextmanager
def serving(seeded: Seeded) -> Iterator[BackendProcess]:
    """A real `outpost serve` on the seeded data dir, stopped on the way out."""
    backend = BackendProcess(seeded.data_dir)
    try:
        backend.wait_ready()
        yield backend
    finally:
        backend.stop()
