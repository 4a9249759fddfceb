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
from backend.records.shape import RecordShape, moments_to_json

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 2000
SYSTEM_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")
# Whose driver value is its JSON value, and its CSV text as the csv module writes it (str, int, repr(float)).
_AS_IS_TYPES = frozenset(
    {FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.SELECT, FieldType.RELATION}
    | {FieldType.INTEGER, FieldType.NUMBER}
)
_AS_IS_SYSTEM = frozenset({"id", "created_by", "updated_by", "_version", "_rev"})
_MOMENT_SYSTEM = frozenset({"created_at", "updated_at"})
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # json.dumps's, built once

Rows = Sequence[Sequence[Any]]
Convert = Callable[[Any], Any]
ColumnWay = Callable[[Sequence[Any]], Sequence[Any]]  # a chunk's column of driver values to its values out


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
            write = self._csv_chunks(connection.dialect, out)
        done = 0
        with connection.execute(statement) as result:
            cursor = result.cursor  # the driver's rows as they are: converted below a column at a time, if at all
            while rows := cursor.fetchmany(CHUNK_ROWS):
                write(rows)
                done += len(rows)
                after_chunk(done)
        return done

    def _to_json(self, dialect: Dialect) -> tuple[tuple[str, ...], list[ColumnWay]]:
        """Each column of statement() by its record name, and its way from a chunk's driver values to JSON values."""
        read = self.shape.point_read(dialect)  # the same columns, in the same order, and each one's way
        return read.names, [self._column_way(name, way) for name, way in zip(read.names, read.from_driver, strict=True)]

    def _column_way(self, name: str, way: Convert, cell: Convert | None = None) -> ColumnWay:
        """A column's driver values to JSON values, or through cell to CSV cells; as they are where they are already."""
        spec = self.shape.fields.get(name)
        if name in _AS_IS_SYSTEM or (spec is not None and spec.type in _AS_IS_TYPES and not spec.holds_json):
            return _blank_nulls if cell else _same
        if cell and spec is not None and spec.type is FieldType.BOOLEAN:
            return _boolean_cells
        to = partial(cell, way) if cell else way
        if name in _MOMENT_SYSTEM or (spec is not None and spec.type is FieldType.DATETIME):
            return partial(moments_to_json, slow=to)
        return partial(_each, to)

    def _jsonl_chunks(self, out: TextIO, dialect: Dialect) -> Callable[[Rows], None]:
        names, ways = self._to_json(dialect)

        def write(rows: Rows) -> None:
            values = [way(column) for way, column in zip(ways, zip(*rows, strict=True), strict=True)]
            records = (dict(zip(names, record, strict=True)) for record in zip(*values, strict=True))
            out.writelines(_json_text(record) + "\n" for record in records)

        return write

    def _csv_chunks(self, dialect: Dialect, out: TextIO) -> Callable[[Rows], None]:
        """Rows of statement() as CSV lines: %-formatted, or by the csv module in a chunk where a cell needs quoting.

        The csv module takes ten times a row's scan to write one; a format string takes less than the scan. The
        two write the same line wherever no cell holds a comma, a quote or a line break, which the chunk's text
        shows by its counts of them.
        """
        read = self.shape.point_read(dialect)
        index = {name: position for position, name in enumerate(read.names)}
        cells: list[tuple[int, ColumnWay]] = []
        for name in self.header():
            spec = self.shape.fields.get(name)
            cell = partial(_cell, as_json=spec is not None and spec.holds_json)
            cells.append((index[name], self._column_way(name, read.from_driver[index[name]], cell)))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header())
        line = ",".join(["%s"] * len(cells)) + "\n"
        commas = len(cells) - 1

        def write(rows: Rows) -> None:
            columns = list(zip(*rows, strict=True))
            lines = list(zip(*(way(columns[at]) for at, way in cells), strict=True))
            text = "".join(map(line.__mod__, lines))
            plain = text.count(",") == commas * len(lines) and text.count("\n") == len(lines)
            if plain and '"' not in text and "\r" not in text:
                out.write(text)
            else:
                writer.writerows(lines)

        return write


def _blank_nulls(column: Sequence[Any]) -> Sequence[Any]:
    """The column with each null as an empty cell (a format string would write None)."""
    return column if None not in column else ["" if value is None else value for value in column]


def _cell(to_json: Convert, raw: Any, *, as_json: bool) -> str:
    return csv_cell(to_json(raw), as_json=as_json)


def _each(way: Convert, column: Sequence[Any]) -> list[Any]:
    return [way(value) for value in column]


def _same(column: Sequence[Any]) -> Sequence[Any]:
    return column


def _boolean_cells(column: Sequence[Any]) -> list[str]:
    """The driver's booleans (SQLite's 0 and 1, PostgreSQL's False and True) as CSV cells."""
    return ["" if value is None else "true" if value else "false" for value in column]
