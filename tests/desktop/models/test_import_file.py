"""The import file's preview and mapping, without Qt: only the head is read, rows numbered as the backend's
report numbers them, the default mapping left to the backend, a changed one sent whole."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.models.import_file import (
    default_target,
    guess_format,
    mapping_to_send,
    outcome_text,
    problems_caption,
    read_preview,
    shared_targets,
    unfilled_required,
)

FIELDS = ["site", "score", "status"]


def test_the_format_is_guessed_from_the_suffix() -> None:
    assert guess_format(Path("a.CSV")) == "csv"
    assert guess_format(Path("a.jsonl")) == "jsonl"
    assert guess_format(Path("a.ndjson")) == "jsonl"
    assert guess_format(Path("a.txt")) == "csv"


def test_a_csv_preview_reads_the_head_only_and_numbers_rows_as_the_report(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    lines = ["\ufeffsite , score,created_at", "North,1,x", "", *(f"S{i},{i},x" for i in range(100_000))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    preview = read_preview(path, "csv", rows=3, head_bytes=4096)
    assert preview.columns == ["site", "score", "created_at"]  # the BOM and the spaces gone, as the backend reads
    assert preview.rows == [["North", "1", "x"], ["S0", "0", "x"], ["S1", "1", "x"]]
    assert preview.numbers == [2, 4, 5]  # the header is row 1; the blank line is skipped but counted
    assert preview.problem is None
    assert preview.samples(0) == ["North", "S0", "S1"]


def test_a_file_that_is_not_utf8_is_refused_before_sending(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("site\nCaf\xe9\n".encode("latin-1"))
    preview = read_preview(path, "csv")
    assert preview.problem is not None
    assert "not UTF-8" in preview.problem
    # A character cut by the head's end is not mistaken for bad text.
    cut = tmp_path / "cut.csv"
    cut.write_text("site\n" + "é" * 3000 + "\n", encoding="utf-8")
    assert read_preview(cut, "csv", head_bytes=1002).problem is None


def test_a_semicolon_csv_and_an_empty_file_are_explained(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("site;score\nNorth;1\n", encoding="utf-8")
    assert "other than commas" in read_preview(path, "csv").notes[0]
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    assert read_preview(empty, "csv").problem == "empty.csv is empty."


def test_a_jsonl_preview_collects_keys_in_order_and_notes_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "\n".join([json.dumps({"site": "N", "score": 1}), "not json", json.dumps({"site": "S", "tags": ["a"]})]) + "\n"
    )
    preview = read_preview(path, "jsonl")
    assert preview.columns == ["site", "score", "tags"]
    assert preview.rows == [["N", "1", ""], ["S", "", '["a"]']]
    assert preview.numbers == [1, 3]
    assert preview.notes == ["Line 2 is not a JSON object."]


def test_the_default_mapping_is_left_to_the_backend_and_a_changed_one_is_sent_whole() -> None:
    assert default_target("site", FIELDS) == "site"
    assert default_target("id", FIELDS) == "id"
    assert default_target("_rev", FIELDS) is None
    assert default_target("Site", FIELDS) is None
    defaults = {"id": "id", "site": "site", "Score": None, "_version": None}
    assert mapping_to_send(defaults, FIELDS) is None
    renamed = {**defaults, "Score": "score"}
    assert mapping_to_send(renamed, FIELDS) == {"id": "id", "site": "site", "Score": "score", "status": "status"}
    ignored = {**defaults, "site": None}
    assert mapping_to_send(ignored, FIELDS) == {"id": "id", "score": "score", "status": "status"}


def test_shared_and_missing_targets_and_the_words_of_a_result() -> None:
    assert shared_targets({"a": "site", "b": "site", "c": None}) == {"site": ["a", "b"]}
    fields = [{"name": "site", "required": True}, {"name": "flag", "required": True, "default": False}]
    assert unfilled_required({"x": "score"}, fields) == ["site"]
    result = {"rows": 1205, "created": 1200, "updated": 3, "rows_with_problems": 2, "problems": 57}
    assert outcome_text(result) == "1,200 created, 3 updated, 2 rows with problems"
    assert outcome_text({"created": 1, "updated": 0, "rows_with_problems": 0}) == "1 created, 0 updated, no problems"
    first = [{"row": 2, "field": "score", "message": "m"}] * 20
    assert problems_caption({**result, "first_problems": first}).startswith("The first 20 of 57 problems")
    assert problems_caption({"problems": 1, "first_problems": first[:1]}) == "The problem"
