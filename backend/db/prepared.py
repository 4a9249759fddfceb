"""Writes compiled once: a DML statement's SQL text and each parameter's bind processor, run as driver SQL."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect and one set of parameter names."""

    sql: str
    names: tuple[str, ...]  # in the order of the SQL's placeholders
    processors: tuple[Any, ...]  # each name's bind processor (None: sent as is)
    constants: Mapping[str, Any]  # values the statement binds itself (literals), by name

    def rows(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """The positional parameters of each row of values by name.

        Picked by one itemgetter (in C), then only the columns with a bind processor are processed, each
        distinct value once: the rows of one batch share their timestamps, whose formatting was a third of
        the work.
        """
        pick = itemgetter(*self.names)
        processed = [(index, process, {}) for index, process in enumerate(self.processors) if process is not None]
        constants = self.constants
        out = []
        for values in rows:
            row = pick({**constants, **values} if constants else values)
            if len(self.names) == 1:
                row = (row,)
            if processed:
                row = list(row)
                for index, process, seen in processed:
                    value = row[index]
                    key = (value.__class__, value)  # by type too: True == 1 == 1.0, yet JSON writes them apart
                    try:
                        row[index] = seen[key]
                    except (KeyError, TypeError):  # not seen yet, or not hashable (a JSON value)
                        done = process(value)
                        with contextlib.suppress(TypeError):
                            seen[key] = done
                        row[index] = done
                row = tuple(row)
            out.append(row)
        return out


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
    its generic machinery: for a run of a thousand inserts that cost more than SQLite's work. The SQL
    goes to the driver's cursor directly (SQLAlchemy's execution context cost more than SQLite's insert
    of one record); errors come back as SQLAlchemy's (IntegrityError and so on), as from session.execute.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    prepared = _prepare(statement, tuple(sorted(rows[0])), dialect)
    parameters = prepared.rows(rows)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(parameters) > 1:
            cursor.executemany(prepared.sql, parameters)
        else:
            cursor.execute(prepared.sql, parameters[0])
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            prepared.sql, None, error, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
        ) from error
    finally:
        cursor.close()
