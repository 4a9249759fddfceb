"""`python -m desktop.screenshots OUT` renders every page and dialog against a live backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage


def test_screenshots_command_writes_a_legible_dashboard(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = subprocess.run(
        [sys.executable, "-m", "desktop.screenshots", str(out)],
        capture_output=True,
        text=True,
        timeout=240,  # the backend is killed and restarted for one shot
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    pages = {"dashboard", "collections", "records", "users", "roles", "api-keys", "audit-log", "jobs", "backups"}
    dialogs = {
        "first-admin-error",
        "sign-in",
        "new-user-errors",
        "edit-user",
        "reset-password",
        "new-role",
        "new-api-key",
        "api-key-secret",
        "revoke-api-key",
        "change-password",
        "schema-editor",
        "new-collection",
        "new-record",
        "export-bad-filter",
        "export-done",
        "import-preview",
        "import-done",
        "job-details",
        "cancel-job",
        "restore-backup",
        "backup-schedule",
        "connect",
    }
    sized = {f"{page}-{size}" for page in pages for size in ("1024x640", "1440x900")}
    shots = {p.stem for p in out.glob("*.png")}
    assert shots == sized | {f"dialog-{name}" for name in dialogs} | {
        "dashboard-backend-stopped",
        "collections-empty",
        "jobs-empty",
        "backups-empty",
    }
    stopped = QImage(str(out / "dashboard-backend-stopped.png"))
    assert (stopped.width(), stopped.height()) == (1024, 640)
    image = QImage(str(out / "dashboard-1024x640.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1024, 640)
    assert QImage(str(out / "users-1440x900.png")).width() == 1440
    # A rendered page has many colours (text, cards, sidebar), not a blank fill.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20
