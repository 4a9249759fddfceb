"""A collection's live records, filtered, written to a file as CSV or JSON Lines in chunks.

CSV: one header row (id, the collection's fields in order, then the system fields), one row per record. A
cell holds the value's text: true/false, numbers as JSON writes them, a JSON or multi-select value as its
JSON text, an empty cell for null. JSON Lines: each line is the record exactly as the API shows it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Connection, Select, func, select

from backend.collections.filter_sql import compile_filter
from backend.records.shape import RecordShape

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 2000
SYSTEM_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")


def csv_cell(value: Any, *, as_json: bool = False) -> str:
    """One value as CSV text (see the module's docstring); as_json: a JSON field's, always its JSON text."""
    if value is None:
        return ""
    if as_json:  # the JSON string "123" must not come back as the number 123
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
        write = self._writer(out)
        done = 0
        for records in self._chunks(connection):
            for record in records:
                write(record)
            done += len(records)
            after_chunk(done)
        return done

    def _chunks(self, connection: Connection) -> Iterator[list[dict[str, Any]]]:
        result = connection.execution_options(yield_per=CHUNK_ROWS).execute(self.statement())
        for rows in result.mappings().partitions(CHUNK_ROWS):
            yield [self.shape.record(row) for row in rows]

    def _writer(self, out: TextIO) -> Callable[[dict[str, Any]], None]:
        if self.format == "jsonl":

            def write_line(record: dict[str, Any]) -> None:
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")

            return write_line
        header = self.header()
        as_json = [name in self.shape.fields and self.shape.fields[name].holds_json for name in header]
        rows = csv.writer(out, lineterminator="\n")
        rows.writerow(header)
        return lambda record: rows.writerow(
            [csv_cell(record.get(name), as_json=json_text) for name, json_text in zip(header, as_json, strict=True)]
        )
