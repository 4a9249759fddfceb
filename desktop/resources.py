"""Where the bundled resources (icons, stylesheets) are, from source or from the executable."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The resources/ directory beside the code, or inside the one-file executable."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """A file under resources/."""
    return resources_dir().joinpath(*parts)


def stylesheet(name: str = "light") -> str:
    """The console's Qt stylesheet."""
    return resource_path("styles", f"{name}.qss").read_text(encoding="utf-8")
