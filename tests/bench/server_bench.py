"""Server mode against embedded: GET record, list 50 and POST on PostgreSQL (with Redis) and on SQLite, with wrk.

Every row is given beside the bare Litestar hello measured in the same run; the PostgreSQL rows also as a
ratio to the same row on SQLite. Last, GET record through two server-mode instances at once (a wrk on each)
against one: the scale-out factor. The servers share core 0 and wrk core 1 where pinning works; PostgreSQL
and Redis are the machine's own, unpinned, so they take from both cores (see the note printed at the end).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from tests.bench.http_bench import (
    BENCH_EMAIL,
    BENCH_PASSWORD,
    BenchError,
    Row,
    bench_credentials,
    call_json,
    ceiling,
    measure,
    pinning,
    print_table,
    ready_url,
    run_wrk,
    spawn,
    wait_answering,
)
from tests.bench.records_bench import FIELDS, POST_SCRIPT, UNCACHED_LIST_SCRIPT, scripted
from tests.postgres import fresh_postgres_database, redis_url

SEEDED = 10_000  # records per engine, made through the batch API (the same rows on both engines)
BATCH = 1000


@contextmanager
def backend(
    engine: str, scratch: Path, log: IO[str], env: dict[str, str], name: str, *, pin: bool = True
) -> Iterator[tuple[str, int]]:
    """One `outpost serve` on engine (on the server's core when pin); its URL and pid."""
    cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(scratch / name)]
    with spawn(cmd, log, pipe_stdout=True, env=env, pin=pin) as proc:
        base = ready_url(proc)
        wait_answering(base + "/health", proc)
        yield base, proc.pid


def api_key(base: str, engine: str, data_dir: str) -> str:
    """An admin's API key: through /setup embedded; signed in as the CLI-made admin in server mode."""
    if engine == "sqlite":
        return bench_credentials(base, data_dir)[2]
    access = call_json(base, "POST", "/api/v1/auth/login", {"email": BENCH_EMAIL, "password": BENCH_PASSWORD}, {})
    bearer = {"Authorization": f"Bearer {access['access_token']}"}
    return str(call_json(base, "POST", "/api/v1/api-keys", {"name": "bench", "scopes": ["*"]}, bearer)["key"])


def seed(base: str, headers: dict[str, str]) -> str:
    """The bench collection with SEEDED records; the id of one in the middle."""
    call_json(
        base, "POST", "/api/v1/collections", {"name": "owners", "fields": [{"name": "name", "type": "text"}]}, headers
    )
    call_json(base, "POST", "/api/v1/collections", {"name": "bench", "fields": FIELDS}, headers)
    middle = ""
    for start in range(0, SEEDED, BATCH):
        operations = [
            {"method": "POST", "collection": "bench", "body": {"title": f"seeded {i}", "n": i, "status": "waiting"}}
            for i in range(start, start + BATCH)
        ]
        done = call_json(base, "POST", "/api/v1/batch", {"operations": operations}, headers)
        if start <= SEEDED // 2 < start + BATCH:
            middle = str(done["results"][SEEDED // 2 - start]["body"]["id"])
    return middle


def engine_rows(engine: str, args: argparse.Namespace, scratch: Path, log: IO[str], env: dict[str, str]) -> list[Row]:
    """GET record, list 50 (uncached ranges) and POST on one backend of engine."""
    rows = [Row(f"GET record ({engine})"), Row(f"list 50, uncached ({engine})"), Row(f"POST durable ({engine})")]
    try:
        with backend(engine, scratch, log, env, f"data-{engine}") as (base, pid):
            headers = {"X-API-Key": api_key(base, engine, str(scratch / f"data-{engine}"))}
            middle = seed(base, headers)
            records = f"{base}/api/v1/collections/bench/records"
            rows[0].url, rows[0].headers = f"{records}/{middle}", headers
            measure(rows[0], args.seconds, args.warmup, pid)
            uncached = scratch / "uncached.lua"
            uncached.write_text(UNCACHED_LIST_SCRIPT % urllib.parse.urlsplit(records).path)
            scripted(rows[1], base, args.seconds, uncached, headers, pid)
            post = scratch / "post.lua"
            post.write_text(POST_SCRIPT)
            scripted(rows[2], records, args.seconds, post, headers, pid)
    except (BenchError, OSError, KeyError) as exc:
        for row in rows:
            row.error = row.error or str(exc)
    return rows


def scale_out_rows(args: argparse.Namespace, scratch: Path, log: IO[str], env: dict[str, str]) -> list[Row]:
    """GET record through one server-mode instance, then through two at once (a wrk on each, summed).

    The instances are not pinned: a second one can only add what the machine's other core has to spare.
    """
    one, two = Row("GET record, 1 instance"), Row("GET record, 2 instances")
    try:
        with ExitStack() as stack:
            first, _ = stack.enter_context(backend("postgresql", scratch, log, env, "scale-1", pin=False))
            second, _ = stack.enter_context(backend("postgresql", scratch, log, env, "scale-2", pin=False))
            headers = {"X-API-Key": api_key(first, "postgresql", "")}
            target = call_json(first, "GET", "/api/v1/collections/bench/records?limit=1", None, headers)["items"][0][
                "id"
            ]
            path = f"/api/v1/collections/bench/records/{target}"
            run_wrk(first + path, args.warmup, headers)
            one.requests_per_s = run_wrk(first + path, args.seconds, headers).requests_per_s
            results: dict[str, float] = {}

            def hammer(base: str) -> None:
                results[base] = run_wrk(base + path, args.seconds, headers).requests_per_s

            threads = [threading.Thread(target=hammer, args=(base,)) for base in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            two.requests_per_s = sum(results.values())
    except (BenchError, OSError, KeyError, IndexError) as exc:
        one.error = two.error = str(exc)
    return [one, two]


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench server [--seconds N]`: needs wrk, PostgreSQL and Redis."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench server", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    print("servers on core 0, wrk on core 1" if pinning() else "not pinned", flush=True)
    with tempfile.TemporaryDirectory(prefix="outpost-server-bench-") as tmp, fresh_postgres_database() as url:
        scratch = Path(tmp)
        secret = scratch / "secret.key"
        secret.write_text(secrets.token_urlsafe(48))
        secret.chmod(0o600)
        server_env = {"OUTPOST_DATABASE_URL": url, "OUTPOST_REDIS_URL": redis_url(), "OUTPOST_SECRET_FILE": str(secret)}
        made = subprocess.run(
            [sys.executable, "-m", "backend", "user", "create", "--email", BENCH_EMAIL, "--role", "admin",
             "--password-stdin", "--data-dir", str(scratch / "cli")],
            input=BENCH_PASSWORD + "\n", capture_output=True, text=True, timeout=120, env={**os.environ, **server_env},
        )  # fmt: skip
        if made.returncode != 0:
            raise SystemExit(f"could not make the server's admin: {made.stderr}")
        with (scratch / "servers.log").open("w") as log:
            rows = [
                ceiling("ceiling, uvicorn", "uvicorn", args.seconds, args.warmup, log),
                *engine_rows("sqlite", args, scratch, log, {}),
                *engine_rows("postgresql", args, scratch, log, server_env),
                *scale_out_rows(args, scratch, log, server_env),
            ]
    base = rows[0].requests_per_s
    for row in rows:
        if base and row.requests_per_s is not None:
            row.ratio = row.requests_per_s / base
    print_table(rows)
    by_name = {row.name: row for row in rows}
    for what in ("GET record", "list 50, uncached", "POST durable"):
        on_pg, on_sqlite = by_name[f"{what} (postgresql)"], by_name[f"{what} (sqlite)"]
        if on_pg.requests_per_s and on_sqlite.requests_per_s:
            print(f"{what}: PostgreSQL {on_pg.requests_per_s / on_sqlite.requests_per_s:.2f} x SQLite")
    one, two = by_name["GET record, 1 instance"], by_name["GET record, 2 instances"]
    if one.requests_per_s and two.requests_per_s:
        print(
            f"scale-out: 2 instances {two.requests_per_s / one.requests_per_s:.2f} x 1 (the instances, PostgreSQL, "
            "Redis and wrk share this machine's two cores: the factor shows contention here, not what a second "
            "machine adds)"
        )
    return 1 if any(row.error for row in rows) else 0
