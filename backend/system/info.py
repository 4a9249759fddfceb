"""What this instance is: version, where its data lives, how big, since when."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from backend import __version__
from backend.db.engine import Database
from backend.settings import Settings


@dataclass(frozen=True)
class SystemInfo:
    """Facts about the running backend for the dashboard."""

    version: str
    mode: str
    data_dir: str
    database_path: str
    database_engine: str  # the engine and its version: "SQLite 3.40.1", "PostgreSQL 15.20"
    database_bytes: int
    schema_revision: str
    pid: int
    started_at: datetime


async def system_info(settings: Settings, db: Database, schema_revision: str, started_at: datetime) -> SystemInfo:
    """Gather the instance's facts (embedded: a few stat calls; server mode: one query for the size)."""
    return SystemInfo(
        version=__version__,
        mode=settings.mode,
        data_dir=str(settings.data_dir),
        database_path=db.location(),
        database_engine=await db.version(),
        database_bytes=await db.size_bytes(),
        schema_revision=schema_revision,
        pid=os.getpid(),
        started_at=started_at,
    )
