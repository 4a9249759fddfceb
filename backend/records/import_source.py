"""Rows of an import file (CSV or JSON Lines) as record bodies: columns mapped to fields, CSV text typed.

CSV cells are read as the export writes them: an empty cell is null; true/false (also 1/0, yes/no) for a
boolean; numbers as text; a JSON or multi-select value as its JSON text (a multi-select also takes
"a, b"). JSON Lines values are taken as they are. Columns the export adds for information (created_at,
_version, ...) are ignored, as is any column the mapping leaves out; "id" (when mapped) makes the row an
upsert of that record.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.collections.definition import FieldDef, FieldType
from backend.records.export import SYSTEM_COLUMNS
from backend.records.shape import RecordShape

FORMATS = ("csv", "jsonl")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
MAX_LINE_CHARS = 10 * 1024 * 1024  # one record's line; a longer one is a problem of its row, not a crash


@dataclass
class SourceRow:
    """One row of the file: its number there (the header is row 1 of a CSV), its body, its problems."""

    number: int
    body: dict[str, Any]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)


class ImportMapping:
    """Which source column fills which field (by default: each column named as a field, and id)."""

    def __init__(self, shape: RecordShape, mapping: Mapping[str, str] | None) -> None:
        self.shape = shape
        self.explicit = dict(mapping or {})

    def target(self, column: str) -> str | None:
        """The field a column fills, or None when it is ignored."""
        if self.explicit:
            return self.explicit.get(column)
        if column == "id" or column in self.shape.fields:
            return column
        return None

    def problems(self) -> list[str]:
        """Why the mapping cannot be used (a field it names that the collection lacks)."""
        known = {"id", *self.shape.fields}
        unknown = [(column, name) for column, name in self.explicit.items() if name not in known]
        return [
            f"{column} -> {name}: {name} is not a field of {self.shape.definition.name}" for column, name in unknown
        ]


class NotUtf8(ValueError):
    """The file holds a byte that is not UTF-8 text (a sheet saved in a legacy encoding, say)."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(
            f"the file is not UTF-8 text (line {line}, column {column}): save it as UTF-8 "
            "(in Excel: CSV UTF-8) and import it again; nothing was imported"
        )


def read_rows(path: Path, fmt: str, mapping: ImportMapping) -> Iterator[SourceRow]:
    """Every row of the file, in order."""
    if fmt == "jsonl":
        yield from _jsonl_rows(path, mapping)
    else:
        yield from _csv_rows(path, mapping)


def count_rows(path: Path, fmt: str) -> int:
    """How many rows the file holds (for progress): lines, less the CSV header; quoted line breaks overcount.

    Raises NotUtf8 before anything is imported if a byte of the file is not UTF-8 text.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = offset = line_start = 0
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = min(exc.start, len(chunk))  # a character begun in the chunk before counts from here
                newline = chunk.rfind(b"\n", 0, at)
                start = offset + newline + 1 if newline >= 0 else line_start
                raise NotUtf8(lines + chunk.count(b"\n", 0, at) + 1, offset + at - start + 1) from None
            lines += chunk.count(b"\n")
            if (newline := chunk.rfind(b"\n")) >= 0:
                line_start = offset + newline + 1
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a character
            raise NotUtf8(lines + 1, offset - line_start) from None
        source.seek(max(0, path.stat().st_size - 1))
        if path.stat().st_size and source.read(1) != b"\n":
            lines += 1
    return max(0, lines - 1) if fmt == "csv" else lines


def _jsonl_rows(path: Path, mapping: ImportMapping) -> Iterator[SourceRow]:
    with path.open(encoding="utf-8", errors="strict", newline="") as source:
        for number, line in enumerate(_lines(source), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError as exc:
                yield SourceRow(number, {}, [("line", f"is not JSON: {exc.msg} at column {exc.colno}")])
                continue
            if not isinstance(raw, dict):
                yield SourceRow(number, {}, [("line", "is not a JSON object")])
                continue
            body = {target: value for column, value in raw.items() if (target := mapping.target(column))}
            yield SourceRow(number, body)


def _lines(source: io.TextIOBase) -> Iterator[str]:
    while line := source.readline(MAX_LINE_CHARS):
        yield line


def _csv_rows(path: Path, mapping: ImportMapping) -> Iterator[SourceRow]:
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as source:
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None:
            return
        targets = [mapping.target(column.strip()) for column in header]
        fields = mapping.shape.fields
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            row = SourceRow(number, {})
            if len(cells) > len(header):
                row.problems.append(("line", f"has {len(cells)} cells, the header {len(header)}"))
            for target, cell in zip(targets, cells, strict=False):
                if target is None or target in SYSTEM_COLUMNS:
                    continue
                if target == "id":
                    row.body["id"] = cell.strip() or None
                    continue
                try:
                    row.body[target] = csv_value(fields[target], cell)
                except ValueError as exc:
                    row.problems.append((target, str(exc)))
            yield row


def csv_value(spec: FieldDef, cell: str) -> Any:
    """A CSV cell's value for a field of that type (ValueError saying why it is not one)."""
    text = cell.strip()
    if spec.type is FieldType.TEXT:
        return cell if cell != "" else None
    if text == "":
        return None
    match spec.type:
        case FieldType.INTEGER:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None
        case FieldType.NUMBER:
            try:
                return float(text) if any(mark in text.lower() for mark in ".en") else int(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a number") from None
        case FieldType.BOOLEAN:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"{text!r} is not true or false")
        case FieldType.JSON:
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError("is not JSON") from None
        case FieldType.SELECT if spec.multiple:
            if text.startswith("["):
                try:
                    return json.loads(text)
                except ValueError:
                    raise ValueError("is not a JSON list of options") from None
            return [part.strip() for part in text.split(",") if part.strip()]
    return text
