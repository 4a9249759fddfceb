"""Writes compiled once: a DML statement's SQL text and each parameter's bind processor, run as driver SQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect and one set of parameter names."""

    sql: str
    names: tuple[str, ...]  # in the order of the SQL's placeholders
    processors: tuple[Any, ...]  # each name's bind processor (None: sent as is)
    constants: Mapping[str, Any]  # values the statement binds itself (literals), by name

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for one row of values by name."""
        row = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = values[name] if name in values else self.constants[name]
            row.append(value if process is None else process(value))
        return tuple(row)


@functools.lru_cache(maxsize=1024)
def _prepare(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> Prepared:
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    binds = compiled.binds
    return Prepared(
        str(compiled),
        names,
        tuple(binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names),
        {name: binds[name].effective_value for name in names if name not in keys},
    )


def run_prepared(session: Session, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """statement once per row (one executemany), compiled once per set of names as SQLAlchemy would compile it.

    SQLAlchemy's own execution looks up its compiled cache and processes every row's parameters through
    its generic machinery: for a run of a thousand inserts that cost more than SQLite's work. Errors come
    back as SQLAlchemy's (IntegrityError and so on), as from session.execute.
    """
    if not rows:
        return
    connection = session.connection()
    prepared = _prepare(statement, tuple(sorted(rows[0])), connection.dialect)
    parameters = [prepared.parameters(row) for row in rows]
    connection.exec_driver_sql(prepared.sql, parameters if len(parameters) > 1 else parameters[0])
