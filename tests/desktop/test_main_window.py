"""The main window opens within the screen it is on, frame and status bar included, whatever the screen's size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.app import Console

# The window built and shown offscreen on a screen of the given size; its frame and the screen's room, as JSON.
SHOW_ON_A_SMALL_SCREEN = """
import json, sys
from pathlib import Path
from desktop.app import application, build_console
app = application()
console = build_console(Path(sys.argv[1]))
console.window.show()
app.processEvents()
frame, room = console.window.frameGeometry(), console.window.screen().availableGeometry()
print(json.dumps({"frame": frame.getRect(), "room": room.getRect(), "contains": room.contains(frame)}))
"""


def test_the_window_opens_within_the_screens_available_area(qtbot: QtBot, console: Console) -> None:
    window = console.window
    window.show()
    qtbot.waitExposed(window)
    room = window.screen().availableGeometry()
    assert room.contains(window.frameGeometry()), (window.frameGeometry(), room)
    assert console.window.statusBar().isVisible()


def test_on_a_1024x640_screen_nothing_of_the_window_is_cut_off(tmp_path: Path) -> None:
    screens = {"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1024, "height": 640, "logicalDpi": 96}]}
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"windowFrameMargins": True, **screens}))
    done = subprocess.run(
        [sys.executable, "-c", SHOW_ON_A_SMALL_SCREEN, str(tmp_path / "data")],
        env={**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["room"] == [0, 0, 1024, 640]  # the screen the check asked for
    assert shown["contains"], shown
    # The room is used: not a small window in a corner.
    assert shown["frame"][2] > 900, shown
    assert shown["frame"][3] > 560, shown
