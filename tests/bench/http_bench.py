"""HTTP throughput with wrk: the bare Litestar ceiling against the full backend."""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from backend.datadir import DataDir
from backend.server import EVENT_LOOP

ROOT = Path(__file__).resolve().parents[2]
THREADS = 2
CONNECTIONS = 32
# wrk's own deadline: a slow reply is a figure to report (its p99), not a socket error.
WRK_TIMEOUT = "10s"
SERVER_CORE, CLIENT_CORE = 0, 1  # with two or more usable cores: the server on one, wrk on another
BENCH_EMAIL = "bench@example.org"
BENCH_PASSWORD = "field teams sign in here daily"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CEILING_APP = "tests.bench.ceiling_app:app"
TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
WRK_HINT = "install wrk: apt-get install -y wrk"


class BenchError(Exception):
    """A row could not be measured cleanly."""


@dataclass
class WrkResult:
    """The numbers one wrk run reported."""

    requests_per_s: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


@dataclass
class Row:
    """One line of the table."""

    name: str
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    requests_per_s: float | None = None
    p99_ms: float | None = None
    requests: int | None = None
    ratio: float | None = None
    cpu_us_per_request: float | None = None  # the server's own CPU time per answer: steady when others share the cores
    cpu_ratio: float | None = None
    error: str | None = None


def parse_wrk(text: str) -> WrkResult:
    """Requests/sec, p99 latency (ms) and error counts from `wrk --latency` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    if not (rps and p99 and total):
        raise BenchError(f"cannot parse wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return WrkResult(
        requests_per_s=float(rps[1]),
        p99_ms=float(p99[1]) * TO_MS[p99[2]],
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


def pinning() -> bool:
    """Whether the server and wrk get a core each (taskset and two usable cores)."""
    return shutil.which("taskset") is not None and {SERVER_CORE, CLIENT_CORE} <= os.sched_getaffinity(0)


def on_core(core: int, cmd: list[str]) -> list[str]:
    """cmd run on one core when pinning, as is otherwise."""
    return ["taskset", "-c", str(core), *cmd] if pinning() else cmd


# The per-principal limiter still counts every request; its limit is lifted so that a run of thousands
# of requests a second measures answers, not 429s.
BENCH_ENV = {"OUTPOST_RATE_LIMIT_PER_MINUTE": str(10**9)}


def run_wrk(url: str, seconds: int, headers: dict[str, str] | None = None) -> WrkResult:
    """One wrk run; raises if wrk saw any error or non-2xx answer."""
    threads = 1 if pinning() else THREADS  # one core for wrk: a second thread would only take turns with the first
    cmd = ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT, "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd = on_core(CLIENT_CORE, [*cmd, url])
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    if result.non_2xx or result.socket_errors:
        # Errors are often cheaper to serve than answers, so such a rate would flatter.
        raise BenchError(
            f"wrk saw {result.non_2xx} non-2xx/3xx responses and {result.socket_errors} socket errors:\n{done.stdout}"
        )
    return result


def free_port() -> int:
    """A port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_answering(url: str, proc: subprocess.Popen[str], headers: dict[str, str] | None = None) -> None:
    """Poll url until it answers 2xx; raise if the server dies or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1):
                return
        except urllib.error.HTTPError as exc:
            raise BenchError(f"{url} answered {exc.code}") from exc
        except OSError:
            time.sleep(0.05)  # not listening yet: poll again shortly
    raise BenchError(f"{url} did not answer within {START_TIMEOUT_S:g} s")


def stop(proc: subprocess.Popen[str]) -> int:
    """SIGTERM the server and wait for it; its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise BenchError(f"pid {proc.pid} ignored SIGTERM for {STOP_TIMEOUT_S:g} s") from None


@contextmanager
def spawn(
    cmd: list[str], log: IO[str], *, pipe_stdout: bool = False, pin: bool = True, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Run a server (on the server's core when pin), its stderr to log; stop it however the block ends."""
    out = subprocess.PIPE if pipe_stdout else log
    env = {**os.environ, **BENCH_ENV, **(env or {})}
    proc = subprocess.Popen(
        on_core(SERVER_CORE, cmd) if pin else cmd, cwd=ROOT, stdout=out, stderr=log, text=True, env=env
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop(proc)


def ready_url(proc: subprocess.Popen[str]) -> str:
    """The URL from the backend's `ready` event line on stdout."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        # A thread, so the wait can time out and stdout keeps draining afterwards.
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            raise BenchError(f"backend exited {proc.wait()} before it was ready")
        try:
            event = json.loads(line)
        except ValueError:
            continue  # only event lines matter; anything else on stdout is noise
        if event.get("event") == "error":
            raise BenchError(f"backend failed to start: {event.get('message')}")
        if event.get("event") == "ready":
            return str(event["url"])
    raise BenchError(f"backend not ready within {START_TIMEOUT_S:g} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far; 0 where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def measure(row: Row, seconds: int, warmup: int, pid: int) -> None:
    """Warm up (discarded), then the measured run, into row."""
    if warmup > 0:
        run_wrk(row.url, warmup, row.headers)
    cpu_before = cpu_seconds(pid)
    result = run_wrk(row.url, seconds, row.headers)
    if cpu_used := cpu_seconds(pid) - cpu_before:
        row.cpu_us_per_request = cpu_used / result.requests * 1e6
    row.requests_per_s = result.requests_per_s
    row.p99_ms = result.p99_ms
    row.requests = result.requests


def ceiling(name: str, server: str, seconds: int, warmup: int, log: IO[str]) -> Row:
    """Measure the bare app under uvicorn or granian."""
    port = free_port()
    py = sys.executable
    commands = {
        "uvicorn": [py, "-m", "uvicorn", CEILING_APP, "--host", "127.0.0.1", "--port", str(port),
                    "--no-access-log", "--no-server-header", "--ws", "none", "--log-level", "warning",
                    "--http", "httptools", "--loop", EVENT_LOOP],
        "granian": [py, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", "1", "--no-ws", "--log-level", "warning", CEILING_APP],
    }  # fmt: skip
    row = Row(name, f"http://127.0.0.1:{port}/")
    try:
        with spawn(commands[server], log) as proc:
            wait_answering(row.url, proc)
            measure(row, seconds, warmup, proc.pid)
    except BenchError as exc:
        row.error = str(exc)
    return row


def call_json(base: str, method: str, path: str, body: object, headers: dict[str, str]) -> dict[str, Any]:
    """One JSON request to the backend under test; its decoded reply."""
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return dict(json.loads(reply.read()))


def bench_credentials(base: str, data_dir: str) -> tuple[str, str, str]:
    """The first administrator, signed in, and an API key of theirs: (user id, access token, API key)."""
    token = {"X-Setup-Token": DataDir(Path(data_dir)).setup_token.read_text()}
    credentials = {"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
    user = call_json(base, "POST", "/api/v1/setup", credentials, token)
    access = call_json(base, "POST", "/api/v1/auth/login", credentials, {})["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    key = call_json(base, "POST", "/api/v1/api-keys", {"name": "bench", "scopes": ["*"]}, bearer)["key"]
    return str(user["id"]), str(access), str(key)


def full_stack(seconds: int, warmup: int, log: IO[str], data_dir: str) -> list[Row]:
    """Measure the public probes and the authenticated point reads on one real backend; it must stop with 0."""
    rows = [
        Row("full stack GET /health"),
        Row("full stack GET /ready"),
        Row("/auth/me, API key"),
        Row("/auth/me, access token"),
        Row("GET /users/{id}, API key"),
    ]
    cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", data_dir]  # fmt: skip
    try:
        with spawn(cmd, log, pipe_stdout=True) as proc:
            base = ready_url(proc)
            wait_answering(base + "/health", proc)
            user_id, access, key = bench_credentials(base, data_dir)
            targets = [
                ("/health", {}),
                ("/ready", {}),
                ("/api/v1/auth/me", {"X-API-Key": key}),
                ("/api/v1/auth/me", {"Authorization": f"Bearer {access}"}),
                (f"/api/v1/users/{user_id}", {"X-API-Key": key}),
            ]
            for row, (path, headers) in zip(rows, targets, strict=True):
                row.url, row.headers = base + path, headers
                try:
                    wait_answering(row.url, proc, headers)
                    measure(row, seconds, warmup, proc.pid)
                except BenchError as exc:
                    row.error = str(exc)
            code = stop(proc)
        if code != 0:
            raise BenchError(f"backend exited {code} on SIGTERM, expected 0")
    except (BenchError, OSError) as exc:
        for row in rows:
            row.error = row.error or str(exc)
    return rows


def print_table(rows: list[Row]) -> None:
    """Aligned plain-text table; failed rows say why at the end of the line."""
    print(f"{'row':<26} {'req/s':>10} {'p99 ms':>8} {'vs uvicorn':>10} {'CPU us/req':>11} {'CPU ratio':>9}")
    for row in rows:
        rps = f"{row.requests_per_s:.0f}" if row.requests_per_s is not None else "-"
        p99 = f"{row.p99_ms:.2f}" if row.p99_ms is not None else "-"
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        cpu = f"{row.cpu_us_per_request:.0f}" if row.cpu_us_per_request is not None else "-"
        cpu_ratio = f"{row.cpu_ratio:.2f}" if row.cpu_ratio is not None else "-"
        note = f"  FAILED: {row.error.splitlines()[0]}" if row.error else ""
        print(f"{row.name:<26} {rps:>10} {p99:>8} {ratio:>10} {cpu:>11} {cpu_ratio:>9}{note}")


def main(argv: list[str] | None = None) -> int:
    """Run every row; 0 if all measured cleanly, 1 if any failed, 2 without wrk."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="measured wrk run per row (default 8)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="discarded wrk run first (default 2, 0 skips)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_HINT, file=sys.stderr)
        return 2

    cores, usable = os.cpu_count(), len(os.sched_getaffinity(0))
    versions = {name: version(name) for name in ("litestar", "uvicorn", "granian")}
    where = f"server on core {SERVER_CORE}, wrk on core {CLIENT_CORE}" if pinning() else "wrk and the server share them"
    print(f"cores: {cores} (usable: {usable}); {where}")
    threads = 1 if pinning() else THREADS
    print(f"wrk -t{threads} -c{CONNECTIONS} -d{args.seconds}s --latency (after a {args.warmup}s discarded warm-up)")
    print(", ".join(f"{name} {v}" for name, v in versions.items()), end="\n\n", flush=True)

    with tempfile.TemporaryDirectory(prefix="outpost-bench-") as tmp:
        log_path = Path(tmp, "servers.log")
        with log_path.open("w") as log:
            rows = [
                ceiling("ceiling, uvicorn", "uvicorn", args.seconds, args.warmup, log),
                ceiling("ceiling, granian", "granian", args.seconds, args.warmup, log),
                *full_stack(args.seconds, args.warmup, log, str(Path(tmp, "data"))),
            ]
        failed = [row for row in rows if row.error]
        # The servers' own stderr usually says why a row failed.
        log_tail = log_path.read_text().splitlines()[-20:] if failed else []

    base, base_cpu = rows[0].requests_per_s, rows[0].cpu_us_per_request
    for row in rows:
        if base and row.requests_per_s is not None:
            row.ratio = row.requests_per_s / base
        # The same ratio from CPU time per answer: what a core of its own would give, however busy the machine.
        if base_cpu and row.cpu_us_per_request:
            row.cpu_ratio = base_cpu / row.cpu_us_per_request
    print_table(rows)
    for row in failed:
        print(f"\n{row.name} FAILED:\n{row.error}", file=sys.stderr)
    if log_tail:
        print("\nserver stderr, last lines:", *log_tail, sep="\n", file=sys.stderr)

    if args.json:
        report = {
            "cores": cores,
            "usable_cores": usable,
            "wrk": {
                "threads": THREADS,
                "connections": CONNECTIONS,
                "seconds": args.seconds,
                "warmup": args.warmup,
            },
            "versions": versions,
            "pinned": pinning(),
            "rows": [{k: v for k, v in asdict(row).items() if k != "headers"} for row in rows],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0
