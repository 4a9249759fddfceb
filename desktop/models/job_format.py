"""How a job reads to a person: its state, duration, attempts, sizes, and the name its file is saved under."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

ACTIVE = frozenset({"queued", "running"})  # states a job leaves by itself: worth watching
ENDED = frozenset({"succeeded", "failed", "cancelled"})
RETRYABLE = frozenset({"failed", "cancelled"})

STATE_COLOURS = {
    "queued": "#5b6b7d",
    "running": "#2b6cb0",
    "succeeded": "#1e8a3c",
    "failed": "#a4262c",
    "cancelled": "#7a8796",
}

# What the saved file is, for the save dialog's type filter, by the result's media type.
FILE_TYPES = {
    "text/csv": "CSV files (*.csv)",
    "application/x-ndjson": "JSON Lines files (*.jsonl)",
    "application/jsonl": "JSON Lines files (*.jsonl)",
    "application/vnd.sqlite3": "SQLite databases (*.db)",
}
SUFFIX_TYPES = {".csv": "CSV files (*.csv)", ".jsonl": "JSON Lines files (*.jsonl)", ".db": "SQLite databases (*.db)"}


def moment(value: Any) -> datetime | None:
    """An RFC 3339 time from the API as an aware datetime; None for none."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def short_time(value: Any, now: datetime | None = None) -> str:
    """A time in local time, short: "14:05:09" today, "2026-12-06 14:05" before; "" for none."""
    when = moment(value)
    if when is None:
        return ""
    local = when.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


def state_text(job: dict[str, Any]) -> str:
    """ "Running", or "Cancelling…" once a cancel is asked for and the job has not stopped yet."""
    state = str(job.get("state", ""))
    if job.get("cancel_requested") and state in ACTIVE:
        return "Cancelling…"
    return state.capitalize()


def state_colour(job: dict[str, Any]) -> str | None:
    """The colour of the job's state (and of its progress bar)."""
    return STATE_COLOURS.get(str(job.get("state", "")))


def attempts_text(job: dict[str, Any]) -> str:
    """ "1 of 3"; "" before the first attempt (a queued job has made none)."""
    attempts = int(job.get("attempts") or 0)
    return f"{attempts} of {job.get('max_attempts') or attempts}" if attempts else ""


def duration_seconds(job: dict[str, Any], now: datetime | None = None) -> float | None:
    """How long the job ran (runs, while running: up to now); None before it started."""
    started = moment(job.get("started_at"))
    if started is None:
        return None
    ended = moment(job.get("finished_at")) or (now or datetime.now(UTC))
    return max(0.0, (ended - started).total_seconds())  # another machine's clock may run behind ours


def duration_text(seconds: float | None) -> str:
    """ "< 0.1 s", "0.4 s", "42 s", "3 min 05 s", "2 h 07 min"; "" for none."""
    if seconds is None:
        return ""
    if seconds < 0.1:
        return "< 0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def human_size(size: Any) -> str:
    """Bytes as a person reads them: "812 B", "20.2 KB", "15.0 MB" (powers of 1024)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # unreachable: GB takes whatever is left


def result_text(job: dict[str, Any]) -> str:
    """What came of a job, in a few words: "80 rows, 20.2 KB"."""
    result = job.get("result") or {}
    parts = []
    if isinstance(result.get("rows"), int):
        rows = result["rows"]
        parts.append(f"{rows:,} row{'' if rows == 1 else 's'}")
    if result.get("bytes") is not None:
        parts.append(human_size(result["bytes"]))
    return ", ".join(parts)


def has_file(job: dict[str, Any]) -> bool:
    """Whether the job made a file one can save: a succeeded export or backup, an import's report of problems
    (a failed all-or-nothing import has one too: it says why)."""
    ended = job.get("state") == "succeeded" or (job.get("state") == "failed" and job.get("kind") == "import")
    return ended and isinstance((job.get("result") or {}).get("file"), str)


def suggested_file_name(job: dict[str, Any]) -> str:
    """The name the save dialog offers: the backend's download_name ("sites-20261207-031743.csv"), else the
    stored file's own name; never a path."""
    result = job.get("result") or {}
    if job.get("kind") == "import" and not result.get("download_name"):  # the report: named for its collection
        return PurePath(f"{(job.get('params') or {}).get('collection') or 'import'}-import-problems.csv").name
    return PurePath(str(result.get("download_name") or result.get("file") or "job")).name


def file_type_filter(job: dict[str, Any]) -> str:
    """The save dialog's type filter for the job's file (and any file, for whoever names it otherwise)."""
    result = job.get("result") or {}
    media_type = str(result.get("media_type") or "").split(";")[0].strip()
    suffix = PurePath(str(result.get("file") or "")).suffix
    kind = FILE_TYPES.get(media_type) or SUFFIX_TYPES.get(suffix)
    return f"{kind};;All files (*)" if kind else "All files (*)"
