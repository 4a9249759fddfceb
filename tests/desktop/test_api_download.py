"""ApiClient.download: a refused download or an unwritable destination leaves no file behind, and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.api import ApiError
from desktop.app import Console
from tests.desktop.pages.jobs_setup import (
    any_free_port,  # noqa: F401 (a fixture)
    job_in,
    wait_job,
)
from tests.desktop.test_destructive_actions import admin_client
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

pytestmark = pytest.mark.usefixtures("any_free_port")


def outcome(qtbot: QtBot, start: Any) -> Any:
    """What the download handed its callbacks: the path written, or the ApiError."""
    results: list[Any] = []
    start(results.append, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=API_TIMEOUT_MS)
    return results[0]


def test_refused_and_unwritable_downloads_leave_nothing_behind(qtbot: QtBot, console: Console, tmp_path: Path) -> None:
    signed_in_console(qtbot, console)
    api = console.api
    downloads = tmp_path / "downloads"  # beside the console's data dir, which is in tmp_path too
    downloads.mkdir()
    with admin_client(console) as client:
        running = wait_job(client, 120)["id"]
        job_in(qtbot, client, running, "running")

        # A job with no file yet: 404, and the destination is not made.
        target = downloads / "early.csv"
        error = outcome(qtbot, lambda done, failed: api.save_job_file(running, target, done, failed))
        assert isinstance(error, ApiError)
        assert error.status == 404
        assert not target.exists()
        assert list(downloads.iterdir()) == []  # no temporary file either

        # A folder that is not there: said at once, nothing is asked of the backend.
        nowhere = downloads / "missing" / "x.csv"
        error = outcome(qtbot, lambda done, failed: api.save_job_file(running, nowhere, done, failed))
        assert isinstance(error, ApiError)
        assert error.type == "file"
        assert str(nowhere) in error.detail

        # An existing file is left as it was when the download is refused.
        kept = downloads / "kept.csv"
        kept.write_text("mine\n")
        error = outcome(qtbot, lambda done, failed: api.save_job_file("no-such-job", kept, done, failed))
        assert isinstance(error, ApiError)
        assert error.status == 404
        assert kept.read_text() == "mine\n"
        assert list(downloads.iterdir()) == [kept]
        assert client.post(f"/api/v1/jobs/{running}/cancel").status_code == 200
