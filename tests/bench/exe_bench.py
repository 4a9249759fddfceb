"""The one-file executable: its size, the oldest glibc it needs, and cold start to /ready against source."""

from __future__ import annotations

import argparse
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EXE = ROOT / "dist" / "outpost"
START_TIMEOUT_S = 60.0
SIZE_GOAL_MB = 60.0
GLIBC_VERSION = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?")


class BenchError(Exception):
    """A figure could not be measured cleanly."""


@dataclass
class StartRow:
    """Cold starts of one program: seconds from spawn to /ready answering 200."""

    name: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)
    ratio: float | None = None
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def bundled_binaries(exe: Path, into: Path) -> list[Path]:
    """Unpack the shared libraries and extensions the executable carries; their paths."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(exe))
    paths = []
    for name, entry in archive.toc.items():
        if entry[4] == "b":  # a binary: shared library or extension module
            path = into / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.extract(name))
            paths.append(path)
    return paths


def glibc_floor(exe: Path) -> tuple[str, list[str]]:
    """The newest GLIBC_ symbol version any part of the executable needs, and the parts that need it."""
    needs: dict[tuple[int, ...], set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="outpost-glibc-") as tmp:
        for path in [exe, *bundled_binaries(exe, Path(tmp))]:
            symbols = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True, check=False).stdout
            for match in GLIBC_VERSION.finditer(symbols):
                found = tuple(int(part) for part in match.groups() if part is not None)
                needs.setdefault(found, set()).add(path.name if path != exe else "bootloader")
    newest = max(needs, default=(0,))
    return ".".join(map(str, newest)), sorted(needs.get(newest, ()))


def ready_seconds(command: list[str], data_dir: Path) -> float:
    """Start the backend, wait for /ready to answer 200, stop it; the seconds to ready."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*command, "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline() or "{}")
        if event.get("event") != "ready":
            raise BenchError(f"no ready event (got {event}); exit {proc.poll()}")
        deadline = started + START_TIMEOUT_S
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"{event['url']}/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, OSError):
                time.sleep(0.01)  # not answering yet: poll again
        raise BenchError(f"/ready not 200 within {START_TIMEOUT_S:g} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=30) != 0:
            raise BenchError(f"exit {proc.returncode} on SIGTERM")


def interpreter_seconds(_command: list[str], _data_dir: Path) -> float:
    """The floor: a bare Python interpreter starting and exiting."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def measure_starts(exe: Path, runs: int) -> list[StartRow]:
    """Cold starts, interleaved so that the machine's drift hits every row alike."""
    rows = [
        StartRow("python -c pass (floor)", [sys.executable]),
        StartRow("source: python -m backend", [sys.executable, "-m", "backend"]),
        StartRow("executable: dist/outpost", [str(exe)]),
    ]
    with tempfile.TemporaryDirectory(prefix="outpost-start-") as tmp:
        data_dirs = {row.name: Path(tmp, str(i)) for i, row in enumerate(rows)}
        for row in rows[1:]:
            try:
                ready_seconds(row.command, data_dirs[row.name])  # first start migrates; not counted
            except (BenchError, OSError, ValueError) as exc:
                row.error = str(exc)
        for _ in range(runs):
            for row in rows:
                if row.error:
                    continue
                probe = interpreter_seconds if row is rows[0] else ready_seconds
                try:
                    row.seconds.append(probe(row.command, data_dirs[row.name]))
                except (BenchError, OSError, ValueError) as exc:
                    row.error = str(exc)
    source = rows[1].median
    for row in rows:
        if source and row.median is not None:
            row.ratio = row.median / source
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the size, glibc floor and cold-start table; 0 if every figure was measured."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench exe", description=__doc__)
    parser.add_argument("--exe", type=Path, default=DEFAULT_EXE, help="the executable (default dist/outpost)")
    parser.add_argument("--runs", type=int, default=7, help="cold starts per row, median reported (default 7)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not args.exe.is_file():
        print(f"no executable at {args.exe}: build it with `pyinstaller --noconfirm build.spec`", file=sys.stderr)
        return 2

    size_mb = args.exe.stat().st_size / 1e6
    floor, needed_by = glibc_floor(args.exe)
    print(f"executable {args.exe}: {size_mb:.1f} MB (goal ≤ {SIZE_GOAL_MB:g} MB, ratio {size_mb / SIZE_GOAL_MB:.2f})")
    print(f"oldest glibc it runs on: {floor} (needed by {', '.join(needed_by)})", end="\n\n")

    rows = measure_starts(args.exe, args.runs)
    print(f"{'cold start to /ready 200':<28} {'median s':>9} {'min s':>7} {'max s':>7} {'vs source':>10}")
    for row in rows:
        if row.error or not row.seconds:
            print(f"{row.name:<28} FAILED: {row.error}")
            continue
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        print(f"{row.name:<28} {row.median:>9.3f} {min(row.seconds):>7.3f} {max(row.seconds):>7.3f} {ratio:>10}")
    print(f"\n{args.runs} runs per row, interleaved; each on a data dir migrated by an uncounted first start.")

    if args.json:
        report = {"size_mb": size_mb, "glibc_floor": floor, "glibc_needed_by": needed_by,
                  "starts": [asdict(row) | {"median": row.median} for row in rows]}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(row.error for row in rows) else 0
