"""Before the console starts Qt: a display, the system libraries its platform needs (named by package), UTF-8.

Qt aborts the whole process (exit 134) when it has no display or its platform plugin cannot load, with a
note that names no package, and warns on stderr under a non-UTF-8 locale; all three are settled here,
before Qt is imported. Nothing here imports Qt, nor anything of the backend (`outpost gui` runs it too).
"""

from __future__ import annotations

import contextlib
import ctypes
import locale
import os
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SystemLibrary:
    """A shared library Qt loads, and the package that brings it on Debian/Ubuntu and on Fedora/RHEL."""

    soname: str
    debian: str
    fedora: str


# What Qt needs on any platform (offscreen too): QtGui links these.
QT_LIBRARIES = (
    SystemLibrary("libglib-2.0.so.0", "libglib2.0-0", "glib2"),
    SystemLibrary("libGL.so.1", "libgl1", "mesa-libGL"),
    SystemLibrary("libEGL.so.1", "libegl1", "mesa-libEGL"),
    SystemLibrary("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    SystemLibrary("libdbus-1.so.3", "libdbus-1-3", "dbus-libs"),
)

# What Qt's xcb platform plugin (X11) needs besides: the dependencies of libQt6XcbQpa that a desktop
# install does not always have (Debian 12 with libgl1 lacks the first eight).
XCB_LIBRARIES = (
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SystemLibrary("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLibrary("libxcb.so.1", "libxcb1", "libxcb"),
    SystemLibrary("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SystemLibrary("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    SystemLibrary("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SystemLibrary("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SystemLibrary("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
)


def platform_is_xcb(env: MutableMapping[str, str]) -> bool:
    """Whether Qt will open its window through xcb (X11): asked for, or the default on an X display."""
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    # Qt picks Wayland in a Wayland session, else xcb when there is an X display.
    return bool(env.get("DISPLAY")) and env.get("XDG_SESSION_TYPE") != "wayland"


def loadable(soname: str) -> bool:
    """Whether the dynamic loader finds and loads soname (the executable's bundled copies count)."""
    bundled = getattr(sys, "_MEIPASS", None)
    candidates = [str(Path(bundled) / soname)] if bundled and (Path(bundled) / soname).is_file() else []
    for candidate in [*candidates, soname]:
        try:
            ctypes.CDLL(candidate)
        except OSError:
            continue
        return True
    return False


def missing_libraries(env: MutableMapping[str, str], can_load: Callable[[str], bool] = loadable) -> list[SystemLibrary]:
    """The libraries Qt will need here, for the platform env selects, that cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return []
    needed = QT_LIBRARIES + (XCB_LIBRARIES if platform_is_xcb(env) else ())
    return [library for library in needed if not can_load(library.soname)]


def missing_libraries_message(missing: list[SystemLibrary], env: MutableMapping[str, str]) -> str:
    """What to tell the person: what is missing, and the install line that brings it."""
    where = "Qt's xcb platform (X11)" if platform_is_xcb(env) else "Qt"
    debian = " ".join(dict.fromkeys(library.debian for library in missing))
    fedora = " ".join(dict.fromkeys(library.fedora for library in missing))
    return (
        f"the console cannot start: {where} needs libraries this machine lacks: "
        f"{', '.join(library.soname for library in missing)}.\n"
        f"  Debian/Ubuntu: apt-get install {debian}\n"
        f"  Fedora/RHEL:   dnf install {fedora}\n"
        "  Without them, run the backend alone: outpost serve"
    )


def text_locale(env: MutableMapping[str, str]) -> str:
    """The locale env gives the character encoding (LC_CTYPE), as the C library resolves it."""
    return env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or "C"


def use_utf8_locale(env: MutableMapping[str, str]) -> None:
    """Under a non-UTF-8 locale (LC_ALL=C), switch the text encoding to C.UTF-8 before Qt does it with a warning."""
    if text_locale(env).lower().replace("-", "").endswith(".utf8"):
        return
    # Keep every other category as LC_ALL had it; only the character encoding changes, as Qt would change it.
    forced = env.pop("LC_ALL", None)
    if forced:
        for category in ("LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC", "LC_TIME"):
            env[category] = forced
    env["LC_CTYPE"] = "C.UTF-8"
    if env is os.environ:
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_CTYPE, "")


def no_display(env: MutableMapping[str, str]) -> bool:
    """On Linux, whether Qt has no screen to open the window on (and no platform that needs none was asked for)."""
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return False
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


NO_DISPLAY_MESSAGE = (
    "the console has no display to open its window on (DISPLAY and WAYLAND_DISPLAY are unset).\n"
    "  On a headless machine run the backend alone: outpost serve\n"
    "  To render without a screen: QT_QPA_PLATFORM=offscreen outpost"
)


def console_environment_problem(env: MutableMapping[str, str] | None = None) -> str | None:
    """Make env ready for Qt (a UTF-8 locale); what stops the console from starting here, or None."""
    env = os.environ if env is None else env
    if env.get("QT_QPA_PLATFORM", None) == "":
        del env["QT_QPA_PLATFORM"]  # exported but empty aborts Qt: treat it as unset
    if no_display(env):
        return NO_DISPLAY_MESSAGE
    missing = missing_libraries(env)
    if missing:
        return missing_libraries_message(missing, env)
    use_utf8_locale(env)
    return None
