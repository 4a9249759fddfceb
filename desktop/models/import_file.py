"""A file to import, as the console sees it before sending it: its format, its first rows, where its columns go.

Only the head of the file is read (a file may be gigabytes): enough for the header and the first rows.
Rows are numbered as the backend's report numbers them: in a CSV the header is row 1, in JSON Lines the
first line is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEAD_BYTES = 256 * 1024  # the most of the file a preview reads
PREVIEW_ROWS = 10
CELL_CHARS = 200  # a longer value is cut in the preview
# Columns an export writes for information; an import never fills a field from them by default.
EXPORT_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")
ID = "id"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
FILE_FILTER = ";;".join(
    ("Data files (*.csv *.jsonl *.ndjson)", "CSV files (*.csv)", "JSON Lines files (*.jsonl *.ndjson)", "All files (*)")
)


def guess_format(path: Path) -> str:
    """ "jsonl" for a .jsonl or .ndjson file, else "csv"."""
    return "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv"


@dataclass
class FilePreview:
    """The file's columns and first rows, as text; why it cannot be imported, or what to look out for."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # a cell per column
    numbers: list[int] = field(default_factory=list)  # each row's number, as the backend's report counts
    problem: str | None = None  # the file cannot be imported as it is (not UTF-8, not CSV)
    notes: list[str] = field(default_factory=list)  # worth knowing, but the import can go ahead

    def samples(self, column: int, count: int = PREVIEW_ROWS) -> list[str]:
        """The first values of a column that are not empty."""
        values = (row[column] for row in self.rows if column < len(row))
        return [value for value in values if value.strip()][:count]


def read_preview(path: Path, file_format: str, rows: int = PREVIEW_ROWS, head_bytes: int = HEAD_BYTES) -> FilePreview:
    """The columns and first rows of the file, from its head only."""
    try:
        with path.open("rb") as source:
            head = source.read(head_bytes + 1)
    except OSError as exc:
        return FilePreview(problem=f"Cannot read {path.name}: {exc.strerror or exc}")
    whole = len(head) <= head_bytes
    if not head.strip():
        return FilePreview(problem=f"{path.name} is empty.")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head[:head_bytes], final=whole)
    except UnicodeDecodeError as exc:
        return FilePreview(
            problem=f"{path.name} is not UTF-8 text (byte {exc.start + 1} is not): the backend reads UTF-8 files "
            "only. Save it again as UTF-8 (spreadsheets call it “CSV UTF-8”)."
        )
    if not whole:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut short
    if file_format == "jsonl":
        return _jsonl_preview(text, rows)
    return _csv_preview(text, rows)


def _csv_preview(text: str, limit: int) -> FilePreview:
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        preview = FilePreview(columns=[cell.strip() for cell in next(reader, None) or []])
        for number, cells in enumerate(reader, start=2):
            if len(preview.rows) >= limit:
                break
            if any(cell.strip() for cell in cells):  # the backend skips blank lines (and counts them)
                preview.rows.append([_cut(cell) for cell in cells])
                preview.numbers.append(number)
    except csv.Error as exc:
        return FilePreview(problem=f"The file cannot be read as CSV: {exc}.")
    if len(preview.columns) == 1 and any(mark in preview.columns[0] for mark in ";\t|"):
        preview.notes.append(
            "Only one column was found: the file seems to separate its values with something other than commas. "
            "The backend reads comma-separated files."
        )
    if not preview.rows:
        preview.notes.append("The file has a header but no rows.")
    return preview


def _jsonl_preview(text: str, limit: int) -> FilePreview:
    preview = FilePreview()
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(records) >= limit:
            break
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            array = " (the file looks like one JSON array; the backend reads an object per line)"
            preview.notes.append(f"Line {number} is not a JSON object{array if line.startswith('[') else ''}.")
            if len(preview.notes) >= 3:
                break
            continue
        records.append(value)
        preview.numbers.append(number)
        preview.columns += [key for key in value if key not in preview.columns]
    preview.rows = [[_cell(record.get(column)) for column in preview.columns] for record in records]
    if not records and not preview.notes:
        preview.notes.append("The file has no rows.")
    return preview


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return _cut(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _cut(text: str) -> str:
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


# -- where the columns go ----------------------------------------------------------------------------------


def default_target(column: str, fields: Sequence[str]) -> str | None:
    """The field the backend fills from this column when no mapping is sent (None: the column is ignored)."""
    if column in EXPORT_COLUMNS:
        return None
    return column if column == ID or column in fields else None


def mapping_to_send(chosen: Mapping[str, str | None], fields: Sequence[str]) -> dict[str, str] | None:
    """The mapping for the API: None when every column goes where the default sends it (the default then also
    covers columns the preview did not see); else every chosen column, and by name the fields and id that no
    column the preview saw was chosen for (a JSON Lines key that first appears further down still fills its field).
    """
    if all(target == default_target(column, fields) for column, target in chosen.items()):
        return None
    mapping = {column: target for column, target in chosen.items() if target}
    taken = set(mapping.values())
    for name in (ID, *fields):
        if name not in chosen and name not in taken:
            mapping[name] = name
    return mapping


def shared_targets(chosen: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Fields that more than one column is chosen for, with those columns."""
    columns_of: dict[str, list[str]] = {}
    for column, target in chosen.items():
        if target:
            columns_of.setdefault(target, []).append(column)
    return {target: columns for target, columns in columns_of.items() if len(columns) > 1}


def unfilled_required(chosen: Mapping[str, str | None], fields: Sequence[Mapping[str, Any]]) -> list[str]:
    """Required fields (with no default) that no column fills: a new record without them is refused."""
    filled = {target for target in chosen.values() if target}
    return [
        str(spec["name"])
        for spec in fields
        if spec.get("required") and spec.get("default") is None and spec["name"] not in filled
    ]


# -- what came of it ---------------------------------------------------------------------------------------


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 row", "1,200 rows"."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def outcome_text(result: Mapping[str, Any]) -> str:
    """ "1,200 created, 3 updated, 2 rows with problems": what an import's result counts."""
    faulty = int(result.get("rows_with_problems") or 0)
    problems = f"{plural(faulty, 'row')} with problems" if faulty else "no problems"
    return f"{int(result.get('created') or 0):,} created, {int(result.get('updated') or 0):,} updated, {problems}"


def problems_caption(result: Mapping[str, Any]) -> str:
    """What the problems table shows: all the problems, or the first of them ("The 3 problems")."""
    shown = len(result.get("first_problems") or [])
    total = int(result.get("problems") or shown)
    if total > shown:
        return f"The first {shown} of {total:,} problems (the report lists every one)"
    return "The problem" if total == 1 else f"The {total} problems"
