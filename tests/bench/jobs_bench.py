"""Jobs: import and export of a large collection, API writes during an import, no-op jobs, a backup.

Each figure beside its ceiling, measured in the same run: import ÷ plain sqlite3 storing the same rows and
change-log entries (executemany, one transaction); export ÷ plain sqlite3 iterating the same rows; no-op
jobs ÷ bare Huey (SqliteHuey, two thread workers, same process); API write p99 during the import ÷
without it. The server runs on core 0, this process (the client) on core 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from backend.jobs.kinds import JobKind
from backend.observability.logging import configure_logging
from tests.backend.jobs.harness import ADMIN, running_jobs
from tests.bench.http_bench import CLIENT_CORE, bench_credentials, call_json, pinning, ready_url, spawn

FIELDS = [
    {"name": "title", "type": "text"},
    {"name": "n", "type": "integer", "indexed": True},
    {"name": "status", "type": "select", "options": ["open", "closed"]},
    {"name": "score", "type": "number"},
    {"name": "done", "type": "boolean"},
]


PARTS = ("import", "export", "backup", "noop")
CALM_S = 5  # seconds of API writes measured without an import


def write_csv(path: Path, rows: int) -> None:
    """A CSV of rows items (the fields above)."""
    shuffled = random.Random(7)
    with path.open("w") as out:
        out.write("title,n,status,score,done\n")
        for i in range(rows):
            status, done = ("open" if i % 3 else "closed"), ("true" if i % 2 else "false")
            out.write(f"item {i},{shuffled.randrange(1_000_000)},{status},{i / 7:.4f},{done}\n")


def request(base: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Any:
    made = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(made, timeout=600) as reply:
        return json.loads(reply.read() or b"null")


def finished(base: str, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """The job once it has ended (polled every 50 ms)."""
    while True:
        job = request(base, "GET", f"/api/v1/jobs/{job_id}", headers)
        if job["state"] in ("succeeded", "failed", "cancelled"):
            if job["state"] != "succeeded":
                raise SystemExit(f"job {job['kind']} {job['state']}: {job['error']}")
            return dict(job)
        time.sleep(0.05)


class Writer(threading.Thread):
    """One API client creating records one after another, keeping each write's latency."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base, self.headers = base, {**headers, "Content-Type": "application/json"}
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            request(self.base, "POST", "/api/v1/collections/items/records", self.headers, b'{"title": "api", "n": 1}')
            self.latencies.append(time.perf_counter() - started)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else float("nan")


def sqlite_import_ceiling(database: Path, scratch: Path, rows: int) -> float:
    """Rows a second plain sqlite3 stores: the same rows and their change-log entries, executemany, one commit."""
    copy = scratch / "ceiling.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    connection = sqlite3.connect(copy, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    collection_id = connection.execute("SELECT id FROM collections WHERE name = 'items'").fetchone()[0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = {row[1] for row in connection.execute("PRAGMA table_info(c_items)")}
    fields = [name for name in ("title", "n", "status", "score", "done") if name in columns]
    ids = [str(uuid.uuid4()) for _ in range(rows)]
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO c_items (id, created_at, updated_at, created_by, updated_by, _version, _hlc, _origin, _deleted, "
        f"{', '.join(fields)}) VALUES (?, ?, ?, 'bench', 'bench', 0, ?, 'node', 0, ?, ?, ?, ?, ?)",
        ((record_id, now, now, f"{now}-{i}", f"item {i}", i, "open", i / 7, i % 2) for i, record_id in enumerate(ids)),
    )
    connection.executemany(
        "INSERT INTO changes (change_id, collection_id, collection, record_id, op, fields, schema_version,"
        " base_version, hlc, pushed, created_at) VALUES (?, ?, 'items', ?, 'insert', ?, 1, 0, ?, 0, ?)",
        (
            (str(uuid.uuid4()), collection_id, record_id, json.dumps({"f": i}), now, now)
            for i, record_id in enumerate(ids)
        ),
    )
    connection.execute("COMMIT")
    rate = rows / (time.perf_counter() - started)
    connection.close()
    copy.unlink()
    return rate


def sqlite_export_ceiling(database: Path) -> tuple[float, int]:
    """Rows a second plain sqlite3 iterates: every live row of the collection, in id order."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    started = time.perf_counter()
    count = sum(1 for _ in connection.execute("SELECT * FROM c_items WHERE NOT _deleted ORDER BY id"))
    rate = count / (time.perf_counter() - started)
    connection.close()
    return rate, count


def bare_huey_rate(scratch: Path, jobs: int) -> float:
    """No-op tasks a second through bare SqliteHuey with two thread workers, enqueued to finished."""
    from backend.jobs.queue import InProcessConsumer

    huey = SqliteHuey("bare", filename=str(scratch / "bare.db"), results=False)
    done = threading.Semaphore(0)
    noop = huey.task()(lambda: done.release())
    consumer = InProcessConsumer(
        huey, workers=2, worker_type="thread", periodic=False, initial_delay=0.05, max_delay=0.2
    )
    consumer.start()
    started = time.perf_counter()
    for _ in range(jobs):
        noop()
    for _ in range(jobs):
        done.acquire()
    rate = jobs / (time.perf_counter() - started)
    consumer.stop(graceful=True)
    return rate


def outpost_jobs_rate(scratch: Path, jobs: int) -> float:
    """No-op jobs a second through Outpost's jobs (table, signals, bridge), submitted to succeeded."""

    async def run() -> float:
        kinds = {"noop": JobKind("noop", lambda ctx: None, title=lambda params: "no-op")}
        async with running_jobs(scratch / "jobs", kinds) as stack:
            started = time.perf_counter()
            ids = [(await stack.service.submit(ADMIN, "noop", {})).id for _ in range(jobs)]
            for job_id in ids:
                await stack.wait_for(job_id, timeout_s=600)
            return jobs / (time.perf_counter() - started)

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench jobs [--rows N] [--noop N] [--only PART,...]`."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench jobs", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--noop", type=int, default=500)
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(PARTS),
        help=f"the parts to measure, comma-separated, of {','.join(PARTS)} (default: all); without import, "
        "export and backup still import the rows first, unmeasured",
    )
    args = parser.parse_args(argv)
    if args.only - set(PARTS):
        parser.error(f"--only takes parts of {','.join(PARTS)}")
    configure_logging("WARNING")  # the in-process jobs would print a line each
    pinned = pinning()  # asked before this process moves to its core, which would make the answer no
    print("server on core 0, this client on core 1" if pinned else "not pinned", flush=True)
    results: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="outpost-jobs-bench-") as tmp:
        scratch = Path(tmp)
        data_dir = scratch / "data"
        source = scratch / "items.csv"
        if args.only & {"import", "export", "backup"}:
            write_csv(source, args.rows)
        cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(data_dir)]
        with (scratch / "server.log").open("w") as log, spawn(cmd, log, pipe_stdout=True) as proc:
            base = ready_url(proc)
            if pinned:  # the server has its core (taskset); the client, the uploads and sqlite3 take the other
                os.sched_setaffinity(0, {CLIENT_CORE})
            _, access, _ = bench_credentials(base, str(data_dir))
            headers = {"Authorization": f"Bearer {access}"}
            call_json(base, "POST", "/api/v1/collections", {"name": "items", "fields": FIELDS}, headers)
            if "import" in args.only:
                calm = Writer(base, headers)
                calm.start()
                time.sleep(CALM_S)  # a bench's measuring window, not synchronisation
                calm.stop.set()
                calm.join()
                ceiling = sqlite_import_ceiling(data_dir / "outpost.db", scratch, args.rows)
                busy = Writer(base, headers)
                busy.start()
            started = time.perf_counter()
            if args.only & {"import", "export", "backup"}:
                job = request(
                    base, "POST", "/api/v1/collections/items/import?mode=skip_invalid", headers, source.read_bytes()
                )
                job = finished(base, headers, job["id"])
            seconds = time.perf_counter() - started
            if "import" in args.only:
                busy.stop.set()
                busy.join()
                rate = job["result"]["created"] / seconds
                results.append(
                    ("import (skip_invalid), rows/s", f"{rate:,.0f}", f"{rate / ceiling:.3f} of sqlite3 {ceiling:,.0f}")
                )
                during, without = p99(busy.latencies), p99(calm.latencies)
                results.append(
                    (
                        "API write p99 during import, ms",
                        f"{during * 1000:.1f}",
                        # The import and the API share the server's one core: how often the API wrote shows
                        # how the core was shared (API writes served more often leave the import less of it).
                        f"{during / without:.2f} x {without * 1000:.1f} without; API writes/s "
                        f"{len(busy.latencies) / seconds:,.0f} during, {len(calm.latencies) / CALM_S:,.0f} without",
                    )
                )
            if "export" in args.only:
                export_ceiling, live = sqlite_export_ceiling(data_dir / "outpost.db")
                started = time.perf_counter()
                job = request(
                    base,
                    "POST",
                    "/api/v1/collections/items/export",
                    {**headers, "Content-Type": "application/json"},
                    b'{"format": "csv"}',
                )
                job = finished(base, headers, job["id"])
                rate = job["result"]["rows"] / (time.perf_counter() - started)
                results.append(
                    (
                        "export CSV, rows/s",
                        f"{rate:,.0f}",
                        f"{rate / export_ceiling:.3f} of sqlite3 {export_ceiling:,.0f} ({live:,} rows)",
                    )
                )
            if "backup" in args.only:
                started = time.perf_counter()
                job = finished(base, headers, request(base, "POST", "/api/v1/backups", headers)["id"])
                size = job["result"]["bytes"] / 1e6
                results.append(
                    ("backup, s", f"{time.perf_counter() - started:.2f}", f"{size:,.0f} MB, integrity checked")
                )
        if "noop" in args.only:
            bare = bare_huey_rate(scratch, args.noop)
            ours = outpost_jobs_rate(scratch, args.noop)
            results.append(("no-op jobs, per s", f"{ours:,.0f}", f"{ours / bare:.3f} of bare Huey {bare:,.0f}"))
    width = max(len(name) for name, _, _ in results)
    for name, figure, ratio in results:
        print(f"{name:<{width}}  {figure:>12}  {ratio}")
    return 0
