"""Point reads compiled once: a bounded SELECT's SQL text and each column's result processor, run on the loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select

from backend.db.engine import Database

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class PointQuery:
    """A bounded, indexed SELECT compiled for one dialect, run through Database.rows.

    SQLAlchemy's statement building, compilation cache lookup and result machinery cost several times
    what SQLite spends on a primary-key read; here they are paid once. Values come out as the column
    types make them (SQLAlchemy's own result processors), so a point read answers what a session would.
    """

    sql: str
    parameters: tuple[str, ...]
    processors: tuple[Processor, ...]

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect) -> PointQuery:
        """statement, whose bound parameters are named with bindparam, compiled for dialect."""
        compiled = statement.compile(dialect=dialect)
        processors = tuple(_result_processor(column.type, dialect) for column in statement.selected_columns)
        return cls(str(compiled), tuple(compiled.positiontup or ()), processors)

    async def raw_rows(self, db: Database, **values: Any) -> list[Any]:
        """The rows for these parameter values as the driver gives them (for a caller that applies processors)."""
        return await db.rows(self.sql, [values[name] for name in self.parameters])

    async def rows(self, db: Database, **values: Any) -> list[tuple[Any, ...]]:
        """The rows for these parameter values, each value processed as its column's type says."""
        found = await self.raw_rows(db, **values)
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(self.processors, row, strict=True)
            )
            for row in found
        ]


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    """The type's result processor for dialect, as a result of this statement would apply it.

    The driver's column type code is not known here (no cursor yet): asyncpg's numeric processors ask for it
    to choose between float and Decimal, and asyncpg already hands floats back as floats.
    """
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]
    except TypeError:
        return None
