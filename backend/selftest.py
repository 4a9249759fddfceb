"""`outpost selftest`: prove on a throwaway data dir that every bundled part works on this machine."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.auth.passwords import PasswordHasher
from backend.cache import DiskCache
from backend.db.factory import open_database
from backend.db.migrate import head_revision
from backend.db.paging import CursorCodec
from backend.jobs.queue import JobQueue
from backend.observability.audit import Actor, AuditTrail
from backend.settings import Settings, load_settings
from backend.startup import prepare_data_dir
from backend.system.saved_settings import SavedSettingsService

# A check does its work on the data dir and returns a short detail; any exception is its failure.
Check = Callable[[Settings], str]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's name, result, detail and duration."""

    name: str
    ok: bool
    detail: str
    seconds: float


def check_migrations(settings: Settings) -> str:
    """Create the data dir and bring an empty database to the head revision."""
    prepared = prepare_data_dir(settings)
    if prepared.migration.to_revision != head_revision():
        raise SelftestFailure(f"stopped at {prepared.migration.to_revision}, head is {head_revision()}")
    return f"empty → {prepared.migration.to_revision}"


def check_database(settings: Settings) -> str:
    """Write through the async writer and read the value back through a reader."""

    async def round_trip() -> str:
        db = open_database(settings)
        try:
            key = secrets.token_bytes(32)
            audit = AuditTrail(db, key, settings.paths.audit_anchor, CursorCodec(key))
            service = SavedSettingsService(db, settings, audit)
            written = {"log_level": "WARNING", "max_body_bytes": 20_000_000}  # a text and a number
            await service.update(Actor("system", None, "selftest"), written)
            saved = (await service.saved()).values
        finally:
            await db.close()
        if saved != written:
            raise SelftestFailure(f"saved {written!r}, read back {saved!r}")
        return "write and read back"

    return asyncio.run(round_trip())


def check_argon2id(_settings: Settings) -> str:
    """Hash a password with Argon2id and verify it (and refuse a wrong one)."""
    hasher = PasswordHasher()
    password = secrets.token_urlsafe(16)
    stored = hasher.hash(password)
    if not stored.startswith("$argon2id$"):
        raise SelftestFailure(f"hash is not Argon2id: {stored.split('$')[1]}")
    if not hasher.verify(stored, password) or hasher.verify(stored, password + "x"):
        raise SelftestFailure("verification gave the wrong answer")
    return "hash and verify"


def check_cache(settings: Settings) -> str:
    """Write a value to the cache and read it back."""
    cache = DiskCache(settings.paths.cache)
    try:
        cache.round_trip()
    finally:
        cache.close()
    return "write and read back"


def check_queue(settings: Settings) -> str:
    """Enqueue a task, let an in-process worker run it, and wait for its result."""
    queue = JobQueue(settings.paths.queue, workers=1)
    try:
        queue.start_consumer()
        queue.round_trip()
    finally:
        queue.close()
    return "task ran and answered"


BACKEND_CHECKS: list[tuple[str, Check]] = [
    ("migrations", check_migrations),
    ("database", check_database),
    ("argon2id", check_argon2id),
    ("cache", check_cache),
    ("queue", check_queue),
]


def run_selftest(extra_checks: list[tuple[str, Check]] | None = None) -> list[CheckOutcome]:
    """Run every check on a temporary data dir, removed afterwards; one outcome per check."""
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="outpost-selftest-") as tmp:
        # An empty environment: the test must not pick up this machine's OUTPOST_* settings.
        settings = load_settings({"data_dir": str(Path(tmp) / "data")}, {})
        for name, check in [*BACKEND_CHECKS, *(extra_checks or [])]:
            started = time.perf_counter()
            try:
                detail, ok = check(settings), True
            except Exception as exc:  # a failing check is reported by name, not raised
                detail, ok = str(exc) or type(exc).__name__, False
            outcomes.append(CheckOutcome(name, ok, detail, time.perf_counter() - started))
    return outcomes


def summary_line(outcomes: list[CheckOutcome]) -> str:
    """One line: every check passed with timings, or which failed and why."""
    failed = [o for o in outcomes if not o.ok]
    if not failed:
        parts = ", ".join(f"{o.name} {o.seconds * 1000:.0f} ms" for o in outcomes)
        return f"selftest passed: {parts}"
    reasons = "; ".join(f"{o.name}: {o.detail}" for o in failed)
    passed = ", ".join(o.name for o in outcomes if o.ok) or "none"
    return f"selftest FAILED {', '.join(o.name for o in failed)} ({reasons}); passed: {passed}"


class SelftestFailure(RuntimeError):
    """A check saw the part answer, but wrongly."""
