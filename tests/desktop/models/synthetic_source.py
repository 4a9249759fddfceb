"""A RowSource of a million synthetic rows in process: keyset cursors, offsets, reversed sorts, counts, held replies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer

from desktop.api import ApiError
from desktop.models.json_decoder import OffThreadJson
from desktop.models.row_source import Delivered, FetchRequest, Page

MILLION = 1_000_000
STRIDE = 7_919  # k = i * STRIDE mod N: a second sort key, a permutation of the rows computed in O(1)
FILTER = re.compile(r"^\s*n\s*<\s*(\d+)\s*$")  # the one filter it understands: the first M rows


@dataclass
class Held:
    """A request waiting for the test to release its reply."""

    request: FetchRequest
    done: Delivered


class SyntheticSource:
    """Rows {id, n, k, name} for n in 0..size-1, sorted by id/n or k either way; replies come on a later loop turn."""

    def __init__(self, size: int = MILLION, *, hold: bool = False, decoder: OffThreadJson | None = None) -> None:
        self.size = size
        self.hold = hold
        self.decoder = decoder  # when given, pages travel as JSON bytes decoded off the GUI thread, like the API's
        self.held: list[Held] = []
        self.served: list[FetchRequest] = []
        self.inverse = pow(STRIDE, -1, size)

    def record(self, n: int) -> dict[str, Any]:
        """Row n."""
        return {"id": f"r{n:07d}", "n": n, "k": n * STRIDE % self.size, "name": f"row {n}", "_rev": "1"}

    def fetch(self, request: FetchRequest, done: Delivered) -> None:
        """Answer on a later turn of the event loop (or when released, when holding)."""
        if self.hold:
            self.held.append(Held(request, done))
        else:
            QTimer.singleShot(0, lambda: self.answer(request, done))

    def release(self, which: Callable[[list[Held]], Held] | None = None) -> FetchRequest:
        """Answer one held request (the oldest unless which picks another); the request answered."""
        held = which(self.held) if which else self.held[0]
        self.held.remove(held)
        self.answer(held.request, held.done)
        return held.request

    def answer(self, request: FetchRequest, done: Delivered) -> None:
        """Compute the page and deliver it (through the JSON decoder when one is set)."""
        self.served.append(request)
        page, error = self.page(request)
        if error is not None or self.decoder is None:
            done(page, error)
            return
        assert page is not None
        body = json.dumps({"items": page.items, "next_cursor": page.next_cursor, "total": page.total}).encode()
        self.decoder.decode(
            body, lambda data, _error: done(Page(data["items"], data["next_cursor"], data["total"]), None)
        )

    def page(self, request: FetchRequest) -> tuple[Page | None, ApiError | None]:
        """The rows request asks for, as the records API would give them."""
        rows = self.size
        if request.filter:
            matched = FILTER.match(request.filter)
            if not matched:
                position = len(request.filter) - len(request.filter.lstrip())
                message = f"unexpected text at position {position}"
                problem = {"errors": [{"field": "filter", "message": message}], "position": position}
                return None, ApiError(400, "The filter is not valid.", errors=problem["errors"], problem=problem)
            rows = min(int(matched.group(1)), self.size)
        keys = request.sort.split(",")
        key, descending = keys[0].lstrip("-"), keys[0].startswith("-")
        if key == "k" and rows != self.size:
            return None, ApiError(400, "The synthetic source sorts a filtered set by n or id only.")
        start = int(request.cursor.split(":")[1]) if request.cursor is not None else request.offset or 0
        end = min(start + request.limit, rows)
        items = [self.record(self._row_at(p, key, descending, rows)) for p in range(start, end)]
        cursor = f"p:{end}" if end < rows else None
        return Page(items, cursor, rows if request.count else None), None

    def _row_at(self, position: int, key: str, descending: bool, rows: int) -> int:
        if descending:
            position = rows - 1 - position
        if key == "k":
            return position * self.inverse % self.size
        return position  # id and n sort alike
