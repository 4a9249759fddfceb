"""Identity costs: Argon2id per hash, password logins a second, and /health latency while logins run (both cores)."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from argon2 import PasswordHasher as RfcDefaultHasher

from backend.auth.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST, PasswordHasher
from tests.bench.http_bench import (
    WRK_HINT,
    BenchError,
    WrkResult,
    parse_wrk,
    ready_url,
    spawn,
    stop,
    wait_answering,
)
from tests.conftest import setup_token_header

EMAIL = "bench@example.org"
PASSWORD = "field teams sign in here daily"
LOGIN_CONNECTIONS = 4  # the knee here: more clients only queue behind the two cores (8: same rate, twice the p99)
WRK_TIMEOUT = "10s"  # a slow login is a figure to report (its p99), not a socket error
READER_CONNECTIONS = 32


def hash_times(rounds: int) -> tuple[float, float, float]:
    """Median ms per hash with our parameters, per verify, and per hash at argon2-cffi's RFC default."""

    def median_ms(action: object) -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            action()  # type: ignore[operator]
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    ours = PasswordHasher()
    stored = ours.hash(PASSWORD)
    rfc = RfcDefaultHasher()
    return (
        median_ms(lambda: ours.hash(PASSWORD)),
        median_ms(lambda: ours.verify(stored, PASSWORD)),
        median_ms(lambda: rfc.hash(PASSWORD)),
    )


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> WrkResult:
    """One wrk run (threads 1: the server needs the cores more); raises on any non-2xx."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT, "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    done = subprocess.run([*cmd, url], check=False, capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    if result.non_2xx or result.socket_errors:
        raise BenchError(f"wrk saw {result.non_2xx} non-2xx and {result.socket_errors} socket errors on {url}")
    return result


def login_script(directory: Path) -> Path:
    """A wrk Lua script that POSTs the bench user's credentials."""
    script = directory / "login.lua"
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).replace("'", "\\'")
    script.write_text(f"wrk.method = 'POST'\nwrk.body = '{body}'\nwrk.headers['Content-Type'] = 'application/json'\n")
    return script


def create_user(base: str, data_dir: Path) -> None:
    """The first administrator, through the setup API with the setup token the backend wrote to data_dir."""
    request = urllib.request.Request(
        base + "/api/v1/setup",
        data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json", **setup_token_header(data_dir)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        if reply.status != 201:
            raise BenchError(f"setup answered {reply.status}")


def main(argv: list[str] | None = None) -> int:
    """Print the table; 0 when every row was measured cleanly."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench auth", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="each measured wrk run (default 8)")
    parser.add_argument("--rounds", type=int, default=15, help="hashes timed per Argon2 row (default 15)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_HINT, file=sys.stderr)
        return 2

    ours_hash, ours_verify, rfc_hash = hash_times(args.rounds)
    print(f"Argon2id m={MEMORY_COST_KIB} KiB t={TIME_COST} p={PARALLELISM}, median of {args.rounds}")
    print(f"{'row':<44} {'figure':>12} {'ratio':>8}")
    print(f"{'hash, our parameters (ms)':<44} {ours_hash:>12.1f} {ours_hash / rfc_hash:>8.2f}  vs RFC default")
    print(f"{'verify, our parameters (ms)':<44} {ours_verify:>12.1f} {ours_verify / rfc_hash:>8.2f}  vs RFC default")
    print(f"{'hash, argon2-cffi RFC default (ms)':<44} {rfc_hash:>12.1f} {1.0:>8.2f}", flush=True)

    with tempfile.TemporaryDirectory(prefix="outpost-auth-bench-") as tmp:
        log_path = Path(tmp, "server.log")
        cmd = [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(Path(tmp, "data"))]
        try:
            with log_path.open("w") as log, spawn(cmd, log, pipe_stdout=True, pin=False) as proc:
                base = ready_url(proc)
                wait_answering(base + "/health", proc)
                create_user(base, Path(tmp, "data"))
                script = login_script(Path(tmp))
                wrk(base + "/api/v1/auth/login", 2, LOGIN_CONNECTIONS, script)  # warm-up, discarded
                quiet = wrk(base + "/health", args.seconds, READER_CONNECTIONS)
                logins = wrk(base + "/api/v1/auth/login", args.seconds, LOGIN_CONNECTIONS, script)
                # The readers' figure while logins run: both wrk runs over the same seconds.
                results: dict[str, WrkResult] = {}
                login_thread = threading.Thread(
                    target=lambda: results.update(
                        logins=wrk(base + "/api/v1/auth/login", args.seconds, LOGIN_CONNECTIONS, script)
                    )
                )
                login_thread.start()
                busy = wrk(base + "/health", args.seconds, READER_CONNECTIONS)
                login_thread.join()
                code = stop(proc)
            if code != 0:
                raise BenchError(f"backend exited {code} on SIGTERM")
        except BenchError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            print(*log_path.read_text().splitlines()[-15:], sep="\n", file=sys.stderr)
            return 1
    during = results.get("logins")
    print(f"{'logins/s, ' + str(LOGIN_CONNECTIONS) + ' clients':<44} {logins.requests_per_s:>12.1f}")
    print(f"{'login p99 ms, ' + str(LOGIN_CONNECTIONS) + ' clients':<44} {logins.p99_ms:>12.1f}")
    print(f"{'logins/s, while 32 readers poll /health':<44} {during.requests_per_s if during else 0:>12.1f}")
    print(f"{'login p99 ms, while 32 readers poll /health':<44} {during.p99_ms if during else 0:>12.1f}")
    print(f"{'/health p99 ms, 32 readers, quiet':<44} {quiet.p99_ms:>12.2f} {1.0:>8.2f}")
    print(f"{'/health p99 ms, 32 readers, logins running':<44} {busy.p99_ms:>12.2f} {busy.p99_ms / quiet.p99_ms:>8.2f}")
    print(f"{'/health req/s, quiet / logins running':<44} {quiet.requests_per_s:>5.0f} / {busy.requests_per_s:<5.0f}")
    return 0
