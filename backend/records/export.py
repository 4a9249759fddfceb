"""A collection's live records, filtered, written to a file as CSV or JSON Lines in chunks.

CSV: one header row (id, the collection's fields in order, then the system fields), one row per record. A
cell holds the value's text: true/false, numbers as JSON writes them, a JSON or multi-select value as its
JSON text, an empty cell for null. JSON Lines: each line is the record exactly as the API shows it.

Rows come from the driver's cursor, not as SQLAlchemy rows or record dicts (those cost several times the
scan), and are converted a column at a time, only the columns whose driver value is not already their value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from sqlalchemy import Connection, Dialect, Select, func, select

from backend.collections.definition import FieldType
from backend.collections.filter_sql import compile_filter
from backend.records.shape import RecordShape

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 2000
SYSTEM_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")
# Whose driver value is its JSON value, and its CSV text as the csv module writes it (str, int, repr(float)).
_AS_IS_TYPES = frozenset(
    {FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.SELECT, FieldType.RELATION}
    | {FieldType.INTEGER, FieldType.NUMBER}
)
_AS_IS_SYSTEM = frozenset({"id", "created_by", "updated_by", "_version", "_rev"})
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # json.dumps's, built once

Rows = Sequence[Sequence[Any]]
Convert = Callable[[Any], Any]


def csv_cell(value: Any, *, as_json: bool = False) -> str:
    """One value as CSV text (see the module's docstring); as_json: a JSON field's, always its JSON text."""
    if value is None:
        return ""
    if as_json:  # the JSON string "123" must not come back as the number 123
        return _json_text(value)
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return _json_text(value)


@dataclass(frozen=True)
class RecordExport:
    """One export: a collection's shape, an optional filter, a format."""

    shape: RecordShape
    filter_text: str | None
    format: str

    def statement(self) -> Select[Any]:
        """The live records the export holds, in id order; the filter checked here (BadRequest if it is not valid)."""
        statement = self.shape.live(self.shape.columns_for(None))
        if self.filter_text and self.filter_text.strip():
            statement = statement.where(compile_filter(self.filter_text, self.shape.filterable))
        return statement.order_by(self.shape.table.c.id)

    def header(self) -> list[str]:
        """The CSV header: id, the fields, the system fields."""
        return ["id", *self.shape.fields, *SYSTEM_COLUMNS]

    def count_in(self, connection: Connection) -> int:
        """How many records the export holds."""
        counted = select(func.count()).select_from(self.statement().order_by(None).subquery())
        return int(connection.execute(counted).scalar_one())

    def write_in(self, connection: Connection, out: TextIO, after_chunk: Callable[[int], None]) -> int:
        """Write every record to out, calling after_chunk(records written so far) between chunks; how many."""
        statement = self.statement()
        if self.format == "jsonl":
            write = self._jsonl_chunks(out, connection.dialect)
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.header())
            write = self._csv_chunks(connection.dialect, writer)
        done = 0
        with connection.execute(statement) as result:
            cursor = result.cursor  # the driver's rows as they are: converted below a column at a time, if at all
            while rows := cursor.fetchmany(CHUNK_ROWS):
                write(rows)
                done += len(rows)
                after_chunk(done)
        return done

    def _to_json(self, dialect: Dialect) -> tuple[tuple[str, ...], list[Convert | None]]:
        """Each column of statement() by its record name, and its driver value's way to its JSON value (None: as is)."""
        read = self.shape.point_read(dialect)  # the same columns, in the same order, and each one's way
        fields = self.shape.fields.items()
        as_is = _AS_IS_SYSTEM | {name for name, spec in fields if spec.type in _AS_IS_TYPES and not spec.holds_json}
        return read.names, [
            None if name in as_is else way for name, way in zip(read.names, read.from_driver, strict=True)
        ]

    def _jsonl_chunks(self, out: TextIO, dialect: Dialect) -> Callable[[Rows], None]:
        names, to_json = self._to_json(dialect)

        def write(rows: Rows) -> None:
            columns = zip(*rows, strict=True)
            values = [column if way is None else map(way, column) for way, column in zip(to_json, columns, strict=True)]
            records = (dict(zip(names, record, strict=True)) for record in zip(*values, strict=True))
            out.writelines(_json_text(record) + "\n" for record in records)

        return write

    def _csv_chunks(self, dialect: Dialect, writer: Any) -> Callable[[Rows], None]:
        """Rows of statement() written by the csv module, each value converted in Python."""
        names, to_json = self._to_json(dialect)
        index = {name: position for position, name in enumerate(names)}
        cells: list[tuple[int, Convert | None]] = []
        for name in self.header():
            way, spec = to_json[index[name]], self.shape.fields.get(name)
            as_json = spec is not None and spec.holds_json
            cells.append((index[name], None if way is None else partial(_cell, way, as_json)))

        def write(rows: Rows) -> None:
            columns = list(zip(*rows, strict=True))
            values = [columns[at] if cell is None else map(cell, columns[at]) for at, cell in cells]
            writer.writerows(zip(*values, strict=True))

        return write


def _cell(to_json: Convert, as_json: bool, raw: Any) -> str:
    return csv_cell(to_json(raw), as_json=as_json)
