"""Readiness probes: each part the backend needs, checked and named."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text

from backend.db.engine import Database

PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PartStatus:
    """Whether one part works, and if not, why."""

    ok: bool
    detail: str


class ReadinessService:
    """Checks the database (and, as they arrive, the queue and cache)."""

    def __init__(self, db: Database, expected_revision: str) -> None:
        self.db = db
        self.expected_revision = expected_revision

    async def database(self) -> PartStatus:
        """The database answers and its schema is the one this program expects."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self.db.read() as session:
                revision = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except TimeoutError:
            return PartStatus(False, f"no answer within {PROBE_TIMEOUT_S:g} s")
        except Exception as exc:  # any driver failure means "not ready", never a 500
            return PartStatus(False, f"{type(exc).__name__}: {exc}")
        if revision != self.expected_revision:
            return PartStatus(False, f"schema at revision {revision}, expected {self.expected_revision}")
        return PartStatus(True, f"schema revision {revision}")

    async def check(self) -> dict[str, PartStatus]:
        """Every part's status by name."""
        return {"database": await self.database()}
