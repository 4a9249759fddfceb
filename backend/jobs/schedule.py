"""Periodic jobs: a backup every so many hours and a daily clean-up, each made once per time slot.

Huey's scheduler asks every minute which jobs are due. A due job is submitted with its slot as the dedupe
key ("backup:slot-20431"), which the jobs table holds unique: however many schedulers ask (several worker
processes in server mode, or a restart within the slot), each slot makes one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

HOUR_S = 3600


@dataclass(frozen=True)
class Retention:
    """How often backups are taken and how much is kept (from settings)."""

    backup_interval_hours: int = 24  # 0: no scheduled backups
    backup_keep: int = 10  # backups taken by hand or on schedule kept; older ones are removed
    jobs_keep_days: int = 30  # finished jobs, their files and stale uploads older than this are removed


@dataclass(frozen=True)
class DueJob:
    """A job the schedule wants now, and the slot that makes it once."""

    kind: str
    params: dict[str, Any]
    dedupe_key: str


def due_jobs(now: datetime, retention: Retention) -> list[DueJob]:
    """The scheduled jobs of the slot now falls in (each slot starts at a multiple of its period, UTC)."""
    hours = int(now.timestamp()) // HOUR_S
    due = [DueJob("cleanup", {"keep_days": retention.jobs_keep_days}, f"cleanup:{now:%Y-%m-%d}")]
    if retention.backup_interval_hours > 0:
        slot = hours // retention.backup_interval_hours
        due.append(DueJob("backup", {"scheduled": True}, f"backup:every-{retention.backup_interval_hours}h:{slot}"))
    return due
