"""Crash safety: SIGKILL `outpost serve` at random moments while clients write; every 2xx write survives.

Each round starts the backend, lets parallel clients create and patch records, kills the process with
SIGKILL at a random moment, checks the database file (`PRAGMA integrity_check`, every record with its
change-log entry), restarts, and reads back every write that was acknowledged with a 2xx.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.backend_process import BackendProcess, run_outpost

EMAIL = "crash@example.org"
PASSWORD = "kill the server at random, keep every write"
WRITERS = 8
COLLECTION = "crash_notes"


@dataclass
class Acknowledged:
    """Writes the server answered with a 2xx: record id -> the value of `n` it last acknowledged.

    A patch cut off by the kill may or may not have committed, so its value is allowed beside the last
    acknowledged one until a later write of the record is acknowledged.
    """

    values: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, record_id: str, n: int) -> None:
        with self.lock:
            self.values[record_id] = n
            self.unanswered.pop(record_id, None)

    def cut_off(self, record_id: str, n: int) -> None:
        with self.lock:
            self.unanswered[record_id] = n

    def allowed(self, record_id: str) -> set[int]:
        with self.lock:
            return {self.values[record_id], *([self.unanswered[record_id]] if record_id in self.unanswered else [])}


def _headers(url: str) -> dict[str, str]:
    reply = httpx.post(f"{url}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def _prepare(data_dir: Path) -> None:
    backend = BackendProcess(data_dir)
    try:
        backend.wait_ready()
        made = run_outpost(
            "user",
            "create",
            "--email",
            EMAIL,
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(data_dir),
            stdin=PASSWORD,
        )
        if made.returncode != 0:
            raise SystemExit(made.stderr)
        fields = [{"name": "n", "type": "integer", "required": True}, {"name": "note", "type": "text"}]
        created = httpx.post(
            f"{backend.url}/api/v1/collections",
            json={"name": COLLECTION, "fields": fields},
            headers=_headers(backend.url),
            timeout=30,
        )
        if created.status_code != 201:
            raise SystemExit(f"could not create the collection: {created.status_code} {created.text}")
    finally:
        backend.stop()


def _write(url: str, headers: dict[str, str], acked: Acknowledged, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    records = f"{url}/api/v1/collections/{COLLECTION}/records"
    mine: list[str] = []
    with httpx.Client(headers=headers, timeout=10) as client:
        while not stop.is_set():
            n = rng.randrange(1_000_000)
            record_id = rng.choice(mine) if mine and rng.random() < 0.3 else ""
            try:
                if record_id:
                    reply = client.patch(f"{records}/{record_id}", json={"n": n})
                else:
                    reply = client.post(records, json={"n": n, "note": f"writer {seed}"})
            except httpx.TransportError:
                if record_id:
                    acked.cut_off(record_id, n)
                return  # the server died under us: this write was never acknowledged
            if reply.status_code == 201:
                record_id = reply.json()["id"]
                mine.append(record_id)
            if reply.is_success:
                acked.note(record_id, n)


def _check_file(database: Path, acked: Acknowledged) -> list[str]:
    problems = []
    with sqlite3.connect(database) as connection:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"integrity_check: {verdict}")
        rows = set(r[0] for r in connection.execute(f"SELECT id FROM c_{COLLECTION}"))
        logged = set(
            r[0] for r in connection.execute("SELECT record_id FROM changes WHERE collection = ?", (COLLECTION,))
        )
    if rows != logged:
        problems.append(f"{len(rows ^ logged)} records without their change-log entry (or the reverse)")
    missing = set(acked.values) - rows
    if missing:
        problems.append(f"{len(missing)} acknowledged records missing from the file")
    return problems


def _read_back(url: str, acked: Acknowledged) -> list[str]:
    headers = _headers(url)
    wrong = []
    with httpx.Client(headers=headers, timeout=30) as client:
        for record_id in list(acked.values):
            reply = client.get(f"{url}/api/v1/collections/{COLLECTION}/records/{record_id}")
            if reply.status_code != 200 or reply.json().get("n") not in acked.allowed(record_id):
                wrong.append(f"{record_id}: {reply.status_code} {reply.text[:80]}")
    return wrong


def run(rounds: int, seed: int = 1) -> int:
    """Run the rounds; 0 when every acknowledged write survived every kill."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="outpost-crash-") as scratch:
        data_dir = Path(scratch) / "data"
        _prepare(data_dir)
        acked = Acknowledged()
        failures = 0
        for number in range(1, rounds + 1):
            backend = BackendProcess(data_dir)
            backend.wait_ready()
            headers = _headers(backend.url)
            stop = threading.Event()
            writers = [
                threading.Thread(target=_write, args=(backend.url, headers, acked, stop, rng.randrange(2**31)))
                for _ in range(WRITERS)
            ]
            before = len(acked.values)
            for writer in writers:
                writer.start()
            time.sleep(rng.uniform(0.3, 2.0))  # the random moment of the kill, not a synchronisation
            backend.stop(signal.SIGKILL)
            stop.set()
            for writer in writers:
                writer.join(timeout=30)
            problems = _check_file(data_dir / "outpost.db", acked)
            survivor = BackendProcess(data_dir)
            survivor.wait_ready()
            problems += _read_back(survivor.url, acked)
            survivor.stop()
            status = "ok" if not problems else "FAILED: " + "; ".join(problems[:5])
            print(f"round {number:>3}: {len(acked.values) - before:>5} new records acknowledged, {status}", flush=True)
            failures += bool(problems)
        print(f"{rounds - failures}/{rounds} rounds kept every acknowledged write ({len(acked.values)} records)")
        return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench crash [--rounds N] [--seed S]`."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench crash", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    return run(options.rounds, options.seed)
