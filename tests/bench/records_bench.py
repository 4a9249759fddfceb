"""Records on the hot path: point reads, filtered lists, creates, batches and a read/write mix, with wrk.

The server is pinned to one core and wrk to the other (as in the http bench); every row is also given
as a ratio to the bare Litestar hello measured in the same run, and as CPU time per answer.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tests.bench.http_bench import (
    CLIENT_CORE,
    CONNECTIONS,
    WRK_TIMEOUT,
    BenchError,
    Row,
    bench_credentials,
    call_json,
    ceiling,
    cpu_seconds,
    measure,
    on_core,
    parse_wrk,
    pinning,
    print_table,
    ready_url,
    spawn,
    stop,
    wait_answering,
)

SEEDED = 100_000
STATUSES = ("open", "closed", "waiting")
FIELDS = [
    {"name": "title", "type": "text"},
    {"name": "n", "type": "integer", "indexed": True},
    {"name": "status", "type": "select", "options": list(STATUSES), "indexed": True},
    {"name": "score", "type": "number"},
    {"name": "owner", "type": "relation", "relation": {"collection": "owners", "on_delete": "set_null"}},
]
OWNERS = 1000
LIST_PAGE = "limit=50&filter=status%20%3D%20%27waiting%27"
# Every request another range of the indexed field n (500 records of 100 000): answers the cache has not seen.
UNCACHED_LIST_SCRIPT = """
math.randomseed(11)
filter = "n%%%%20%%%%3E%%%%3D%%%%20%%d%%%%20%%%%26%%%%26%%%%20n%%%%20%%%%3C%%%%20%%d"
request = function()
  local low = math.random(0, 99000)
  return wrk.format("GET", "%s?limit=50&filter=" .. string.format(filter, low, low + 500))
end
"""
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"title":"made by wrk %d","n":%d,"status":"open","score":1.5}', counter, counter)
  return wrk.format(nil, nil, nil, body)
end
"""
GROUPS = ("reads", "post", "batch", "mix")  # the rows --only can pick; the ceiling is always measured
MIX_SCRIPT = """
math.randomseed(7)
wrk.headers["Content-Type"] = "application/json"
ids = {%s}
counter = 0
request = function()
  counter = counter + 1
  if math.random() < 0.2 then
    local body = string.format('{"title":"mix %%d","n":%%d,"status":"open"}', counter, counter)
    return wrk.format("POST", "%s", nil, body)
  end
  return wrk.format("GET", "%s/" .. ids[math.random(#ids)])
end
-- Count the creates acknowledged (201), so the bench can check every one of them is there afterwards.
created = 0
threads = {}
setup = function(thread) table.insert(threads, thread) end
response = function(status, headers, body)
  if status == 201 then created = created + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("created") end
  io.write(string.format("acknowledged creates: %%d\\n", total))
end
"""
ACKNOWLEDGED = re.compile(r"^acknowledged creates: (\d+)$", re.MULTILINE)


def seed(database: Path, rows: int) -> list[str]:
    """rows records (each with an owner) written straight into the tables (no change log: read benches only)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rng = random.Random(1)
    owners = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(OWNERS)]
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(rows)]
    with sqlite3.connect(database, timeout=30) as connection:
        connection.executemany(
            "INSERT INTO c_owners (id, created_at, updated_at, _version, _hlc, _deleted, name)"
            " VALUES (?, ?, ?, 0, '0', 0, ?)",
            ((owner, now, now, f"owner {i}") for i, owner in enumerate(owners)),
        )
        connection.executemany(
            "INSERT INTO c_bench (id, created_at, updated_at, _version, _hlc, _deleted, title, n, status, score, owner)"
            " VALUES (?, ?, ?, 0, '0', 0, ?, ?, ?, ?, ?)",
            ((ids[i], now, now, f"seeded {i}", i, STATUSES[i % 3], i / 7, owners[i % OWNERS]) for i in range(rows)),
        )
    return ids


LAST_OUTPUT = [""]  # the last scripted wrk run's output, for what its script printed


def run_script(url: str, seconds: int, script: Path, headers: dict[str, str]) -> tuple[float, float, int, int]:
    """A wrk run with a Lua script; (req/s, p99 ms, requests, non-2xx + socket errors); its output in LAST_OUTPUT."""
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT, "--latency", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run(on_core(CLIENT_CORE, [*cmd, url]), capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    LAST_OUTPUT[0] = done.stdout
    return result.requests_per_s, result.p99_ms, result.requests, result.non_2xx + result.socket_errors


def scripted(row: Row, url: str, seconds: int, script: Path, headers: dict[str, str], pid: int) -> int:
    """Measure a scripted row into row; the number of failed answers."""
    before = cpu_seconds(pid)
    row.url = url
    row.requests_per_s, row.p99_ms, row.requests, failed = run_script(url, seconds, script, headers)
    if (used := cpu_seconds(pid) - before) and row.requests:
        row.cpu_us_per_request = used / row.requests * 1e6
    if failed:
        row.error = f"{failed} answers were not 2xx (or never came)"
    return failed


def check_acknowledged(row: Row, base: str, headers: dict[str, str]) -> None:
    """Every create the mix saw acknowledged is there to be read: its count against the records' own."""
    found = ACKNOWLEDGED.search(LAST_OUTPUT[0])
    if found is None:
        row.error = row.error or "the mix script did not report its acknowledged creates"
        return
    acknowledged = int(found.group(1))
    query = urllib.parse.urlencode({"filter": "title ~ 'mix '", "count": "true", "limit": 1})
    stored = call_json(base, "GET", f"/api/v1/collections/bench/records?{query}", None, headers)["total"]
    print(f"mix: {acknowledged} creates acknowledged, {stored} stored", flush=True)
    # wrk stops at its deadline without reading the answers then in flight: up to one create per
    # connection may be stored unacknowledged. An acknowledged one missing is a lost write.
    if not acknowledged <= stored <= acknowledged + CONNECTIONS:
        row.error = row.error or f"{acknowledged} creates acknowledged but {stored} stored"


def batch_rate(base: str, headers: dict[str, str], rounds: int = 5) -> float:
    """Rows a second created by POST /api/v1/batch with 1000 creates, median of rounds."""
    rates = []
    for r in range(rounds):
        operations = [
            {"method": "POST", "collection": "bench", "body": {"title": f"batch {r}.{i}", "n": i, "status": "closed"}}
            for i in range(1000)
        ]
        started = time.perf_counter()
        call_json(base, "POST", "/api/v1/batch", {"operations": operations}, headers)
        rates.append(1000 / (time.perf_counter() - started))
    return sorted(rates)[len(rates) // 2]


def backend_rows(synchronous: str, args: argparse.Namespace, log: IO[str], scratch: Path) -> list[Row]:
    """The rows measured on one backend started with this synchronous setting."""
    data_dir = scratch / f"data-{synchronous}"
    cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(data_dir),
           "--sqlite-synchronous", synchronous]  # fmt: skip
    full = synchronous == "FULL"
    wanted = {part for part in args.only.split(",") if part} if args.only else set(GROUPS)
    reads, batch, mix = (full and name in wanted for name in ("reads", "batch", "mix"))
    rows = [Row(f"POST record ({synchronous})")] if "post" in wanted else []
    if reads:
        rows = [
            Row("GET /health"),
            Row("/auth/me, API key"),
            Row("GET record, API key"),
            Row("GET record, expand (cache)"),
            Row("list 50, status filter (cache)"),
            Row("list 50, n range, uncached"),
            *rows,
        ]
    if batch:
        rows += [Row("batch 1000 creates"), Row("batch 1000, SQLite alone")]
    if mix:
        rows.append(Row(f"mix 80/20, {args.mix_seconds}s"))
    by_name = {row.name: row for row in rows}
    try:
        with spawn(cmd, log, pipe_stdout=True) as proc:
            base = ready_url(proc)
            wait_answering(base + "/health", proc)
            _, _, key = bench_credentials(base, str(data_dir))
            headers = {"X-API-Key": key}
            owners = {"name": "owners", "fields": [{"name": "name", "type": "text"}]}
            call_json(base, "POST", "/api/v1/collections", owners, headers)
            call_json(base, "POST", "/api/v1/collections", {"name": "bench", "fields": FIELDS}, headers)
            records = f"{base}/api/v1/collections/bench/records"
            post = scratch / "post.lua"
            post.write_text(POST_SCRIPT)
            if reads or mix:
                ids = seed(data_dir / "outpost.db", SEEDED)
            if reads:
                targets = {
                    "GET /health": (base + "/health", {}),
                    "/auth/me, API key": (base + "/api/v1/auth/me", headers),
                    "GET record, API key": (f"{records}/{ids[SEEDED // 2]}", headers),
                    "GET record, expand (cache)": (f"{records}/{ids[SEEDED // 2]}?expand=owner", headers),
                    "list 50, status filter (cache)": (f"{records}?{LIST_PAGE}", headers),
                }
                for name, (url, row_headers) in targets.items():
                    row = by_name[name]
                    row.url, row.headers = url, row_headers
                    try:
                        wait_answering(url, proc, row_headers)
                        measure(row, args.seconds, args.warmup, proc.pid)
                    except BenchError as exc:
                        row.error = str(exc)
                uncached = scratch / "uncached.lua"
                uncached.write_text(UNCACHED_LIST_SCRIPT % records.removeprefix(base))
                scripted(by_name["list 50, n range, uncached"], base, args.seconds, uncached, headers, proc.pid)
            if "post" in wanted:
                scripted(by_name[f"POST record ({synchronous})"], records, args.seconds, post, headers, proc.pid)
            if batch:
                by_name["batch 1000 creates"].requests_per_s = batch_rate(base, headers)
                floor = sqlite_batch_floor(data_dir / "outpost.db", scratch)
                by_name["batch 1000, SQLite alone"].requests_per_s = floor
                print(f"batch: {by_name['batch 1000 creates'].requests_per_s / floor:.2f} of SQLite alone", flush=True)
            if mix:
                mix_script = scratch / "mix.lua"
                sample = ", ".join(f'"{one}"' for one in random.Random(2).sample(ids, 2000))
                path = "/api/v1/collections/bench/records"
                mix_script.write_text(MIX_SCRIPT % (sample, path, path))
                mix_row = by_name[f"mix 80/20, {args.mix_seconds}s"]
                scripted(mix_row, base + "/", args.mix_seconds, mix_script, headers, proc.pid)
                check_acknowledged(mix_row, base, headers)
            code = stop(proc)
            if code != 0:
                raise BenchError(f"backend exited {code} on SIGTERM")
    except (BenchError, OSError) as exc:
        for row in rows:
            row.error = row.error or str(exc)
    return rows


def sqlite_batch_floor(database: Path, scratch: Path, rounds: int = 5) -> float:
    """Rows a second SQLite alone stores for a batch of 1000 creates: the rows and their changes, one durable commit.

    The floor under the batch row, measured on a copy of the bench's own database (same tables, indexes and
    size) with plain sqlite3, synchronous=FULL: what no Python on top of it can beat.
    """
    copy = scratch / "floor.db"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    connection = sqlite3.connect(copy, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    collection_id = connection.execute("SELECT id FROM collections WHERE name = 'bench'").fetchone()[0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rates = []
    for r in range(rounds):
        ids = [str(uuid.uuid4()) for _ in range(1000)]
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO c_bench (id, created_at, updated_at, created_by, updated_by, _version, _hlc, _origin,"
            " _deleted, title, n, status) VALUES (?, ?, ?, 'bench', 'bench', 0, ?, 'node', 0, ?, ?, 'closed')",
            ((record_id, now, now, f"{now}-{i}", f"floor {r}.{i}", i) for i, record_id in enumerate(ids)),
        )
        connection.executemany(
            "INSERT INTO changes (change_id, collection_id, collection, record_id, op, fields, schema_version,"
            " base_version, hlc, pushed, created_at) VALUES (?, ?, 'bench', ?, 'insert', ?, 1, 0, ?, 0, ?)",
            (
                (str(uuid.uuid4()), collection_id, record_id, json.dumps({"f1": f"floor {r}.{i}", "f2": i}), now, now)
                for i, record_id in enumerate(ids)
            ),
        )
        connection.execute("COMMIT")
        rates.append(1000 / (time.perf_counter() - started))
    connection.close()
    return sorted(rates)[len(rates) // 2]


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench records [--seconds N] [--mix-seconds N]`."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench records", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--mix-seconds", type=int, default=60)
    parser.add_argument("--json", type=Path, metavar="PATH")
    parser.add_argument(
        "--only", default="", metavar="GROUPS", help=f"comma-separated groups to measure, of {','.join(GROUPS)} (all)"
    )
    args = parser.parse_args(argv)
    print("server on core 0, wrk on core 1" if pinning() else "not pinned: wrk and the server share the cores")
    print(f"{SEEDED} records seeded for the reads; wrk -c{CONNECTIONS}; batch rows are rows/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="outpost-records-bench-") as tmp:
        scratch = Path(tmp)
        with (scratch / "servers.log").open("w") as log:
            rows = [
                ceiling("ceiling, uvicorn", "uvicorn", args.seconds, args.warmup, log),
                *backend_rows("FULL", args, log, scratch),
                *backend_rows("NORMAL", args, log, scratch),
            ]
    base, base_cpu = rows[0].requests_per_s, rows[0].cpu_us_per_request
    for row in rows:
        if base and row.requests_per_s is not None and not row.name.startswith("batch"):
            row.ratio = row.requests_per_s / base
        if base_cpu and row.cpu_us_per_request:
            row.cpu_ratio = base_cpu / row.cpu_us_per_request
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2, default=str))
    return 1 if any(row.error for row in rows) else 0
