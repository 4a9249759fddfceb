"""`python -m desktop.screenshots OUTDIR`: a real backend on a temporary data dir, a PNG of every page."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance

WAIT_S = 60


def wait_for(signal: SignalInstance, timeout_s: float = WAIT_S) -> bool:
    """Run the event loop until the signal fires or the time is up; True if it fired."""
    loop = QEventLoop()
    fired: list[bool] = []
    signal.connect(lambda *args: (fired.append(True), loop.quit()))
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    return bool(fired)


def take_screenshots(out_dir: Path) -> list[Path]:
    """Render every page against a live backend; the paths written."""
    from desktop.app import application, build_console

    app = application()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="outpost-shots-") as data_dir:
        console = build_console(Path(data_dir))
        console.window.resize(1200, 760)
        console.window.show()
        console.host.start()
        try:
            if not wait_for(console.dashboard.refreshed):
                raise RuntimeError("the backend did not come up: " + " | ".join(console.host.stderr_tail))
            for page in console.window.pages:
                console.window.show_page(page.title)
                app.processEvents()
                path = out_dir / f"{page.title.lower().replace(' ', '-')}.png"
                console.window.grab().save(str(path))
                written.append(path)
        finally:
            console.host.stop()
    return written


def main() -> int:
    """Command-line entry."""
    if len(sys.argv) != 2:
        print("usage: python -m desktop.screenshots OUTDIR", file=sys.stderr)
        return 2
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for path in take_screenshots(Path(sys.argv[1])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
