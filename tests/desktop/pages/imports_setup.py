"""Setting the scene for the import dialog's tests: collections made over HTTP, a file picked through Qt's open
dialog (answered by the test), the dialog followed until its job has ended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from desktop.pages.import_dialog import ImportDialog
from tests.desktop.pages.jobs_setup import JOB_TIMEOUT_MS
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

GAUGES = [  # a small collection whose every field can be got wrong in a CSV
    {"name": "name", "type": "text", "required": True},
    {"name": "reading", "type": "integer", "constraints": {"min": 0}},
    {"name": "checked", "type": "boolean"},
]


def make_collection(client: httpx.Client, name: str, fields: list[dict[str, Any]]) -> None:
    """A new collection with these fields."""
    reply = client.post("/api/v1/collections", json={"name": name, "fields": fields})
    assert reply.status_code == 201, reply.text


def answer_open_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """Qt's open dialog answers path at once; the list gets the type filter each call offered."""
    offered: list[str] = []

    def pick(_parent: QWidget, _title: str, _folder: str, type_filter: str) -> tuple[str, str]:
        offered.append(type_filter)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    return offered


def pick_file(qtbot: QtBot, dialog: ImportDialog, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Choose path with the dialog's button, once the collection's fields are in; its columns are then listed."""
    qtbot.waitUntil(lambda: dialog.setup.fields is not None, timeout=API_TIMEOUT_MS)
    answer_open_dialog(monkeypatch, path)
    dialog.setup.choose_button.click()
    assert dialog.setup.path == path


def ended_job(qtbot: QtBot, dialog: ImportDialog) -> dict[str, Any]:
    """Wait until the dialog's job has ended (its counts or its failure are shown); the job as the dialog has it."""
    qtbot.waitUntil(dialog.again_button.isVisible, timeout=JOB_TIMEOUT_MS)
    assert dialog.job is not None
    return dialog.job


def write_csv(path: Path, *lines: str) -> Path:
    """A CSV file of these lines."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
