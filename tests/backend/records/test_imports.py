"""Import chunks through the record service: written a slice per transaction, a refused slice stops the import."""

from __future__ import annotations

import pytest

from backend.observability.audit import Actor
from backend.records import imports
from backend.records.import_source import SourceRow
from backend.records.imports import ChunkRefused, RecordImporter
from tests.backend.auth.helpers import Instance

# Rows 2-6 of a file; "TAKEN" is a unique code another write takes first (as between the check and the write).
ROWS = [SourceRow(number, {"code": code}) for number, code in enumerate(["A", "B", "C", "TAKEN", "E"], start=2)]


def test_a_slice_refused_after_the_check_keeps_the_slices_before_it_and_counts_them(
    records: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "WRITE_SLICE_ROWS", 2)  # five rows: slices of two, TAKEN's the second
    state = records.client.app.state
    actor = Actor("user", records.admin_id, "admin")

    async def scenario() -> ChunkRefused:
        await state.records.create(actor, "sites", {"code": "TAKEN"})  # as if written between the check and now
        with pytest.raises(ChunkRefused) as refused:
            await RecordImporter(state.records).write(actor, "sites", ROWS, skip_invalid=False)
        return refused.value

    refused = records.call(scenario)
    assert (refused.created, refused.updated) == (2, 0)  # the first slice, A and B, stands
    assert [problem.row for problem in refused.problems] == [5]  # TAKEN's row: its slice (C too) is not kept
    assert records.sql("SELECT code FROM c_sites ORDER BY code") == [("A",), ("B",), ("TAKEN",)]


def test_with_skip_invalid_every_slice_is_written_and_the_refused_row_reported(
    records: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "WRITE_SLICE_ROWS", 2)  # five rows: slices of two, TAKEN's the second
    state = records.client.app.state
    actor = Actor("user", records.admin_id, "admin")

    async def scenario() -> imports.ChunkOutcome:
        await state.records.create(actor, "sites", {"code": "TAKEN"})
        return await RecordImporter(state.records).write(actor, "sites", ROWS, skip_invalid=True)

    outcome = records.call(scenario)
    assert (outcome.created, outcome.updated) == (4, 0)
    assert [problem.row for problem in outcome.problems] == [5]
    codes = records.sql("SELECT code FROM c_sites ORDER BY code")
    assert codes == [("A",), ("B",), ("C",), ("E",), ("TAKEN",)]
