"""An import's report: every row left out, with the field and why, as a CSV file beside the upload."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from backend.datadir import FILE_MODE
from backend.records.imports import RowProblem, problem_dict


class ImportReport:
    """Problems appended as they are found; the file exists once there is one."""

    def __init__(self, path: Path, download_name: str) -> None:
        self.path = path
        self.download_name = download_name  # what a person's copy is called
        self.count = 0
        self.rows = 0  # rows with at least one problem
        self.first: list[RowProblem] = []

    def add(self, problems: Iterable[RowProblem]) -> None:
        """Append problems to the report."""
        problems = list(problems)
        if not problems:
            return
        new = not self.path.exists()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with open(descriptor, "a", encoding="utf-8", newline="") as out:
            rows = csv.writer(out, lineterminator="\n")
            if new:
                rows.writerow(["row", "field", "message"])
            rows.writerows([problem.row, problem.field, problem.message] for problem in problems)
        self.count += len(problems)
        self.rows += len({problem.row for problem in problems})  # a chunk holds a row's every problem
        self.first += problems[: max(0, 100 - len(self.first))]

    def result(self, *, total: int, created: int, updated: int, preview: int) -> dict[str, Any]:
        """The job's result: counts, the first problems, and the report file (if any problem was found)."""
        return {
            "rows": total,
            "created": created,
            "updated": updated,
            "rows_with_problems": self.rows,
            "problems": self.count,
            "first_problems": [problem_dict(problem) for problem in self.first[:preview]],
            **(
                {"file": self.path.name, "download_name": self.download_name, "media_type": "text/csv"}
                if self.count
                else {}
            ),
        }
