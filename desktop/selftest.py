"""The console's part of `outpost selftest`: build the main window offscreen, render it, check TLS."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtNetwork import QSslSocket

SAMPLE_STEP_PX = 8


def distinct_colours(image: QImage) -> int:
    """How many colours a grid of sample points shows (a blank render shows one)."""
    return len(
        {
            image.pixel(x, y)
            for x in range(0, image.width(), SAMPLE_STEP_PX)
            for y in range(0, image.height(), SAMPLE_STEP_PX)
        }
    )


def render_main_window(data_dir: Path) -> str:
    """Render the main window (its backend not started) and check the icon and TLS; a short detail."""
    from desktop.app import application, build_console

    app = application()
    if app.windowIcon().isNull():
        raise RuntimeError("the app icon did not load (SVG icon engine missing?)")
    console = build_console(data_dir)
    try:
        console.window.show()
        app.processEvents()
        image = console.window.grab().toImage()
    finally:
        console.window.close()
    if image.isNull() or distinct_colours(image) < 3:
        raise RuntimeError(f"the window rendered blank ({image.width()}x{image.height()})")
    # The console reaches remote servers over HTTPS: Qt's OpenSSL backend must load.
    if "openssl" not in QSslSocket.availableBackends() or not QSslSocket.supportsSsl():
        backends = ", ".join(QSslSocket.availableBackends()) or "none"
        raise RuntimeError(f"no usable TLS (backends: {backends}; OpenSSL: {QSslSocket.sslLibraryVersionString()})")
    return f"{image.width()}x{image.height()} rendered, TLS {QSslSocket.sslLibraryVersionString()}"
