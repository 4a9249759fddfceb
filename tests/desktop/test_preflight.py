"""The console's pre-Qt check: which platform, which libraries, which packages, and the locale."""

from __future__ import annotations

import pytest

from desktop.preflight import (
    NO_DISPLAY_MESSAGE,
    QT_LIBRARIES,
    XCB_LIBRARIES,
    console_environment_problem,
    missing_libraries,
    missing_libraries_message,
    no_display,
    platform_is_xcb,
    use_utf8_locale,
)


@pytest.mark.parametrize(
    ("env", "xcb"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb:display=:1"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False),
        ({}, False),
    ],
)
def test_the_platform_is_xcb_when_qt_will_pick_it(env: dict[str, str], xcb: bool) -> None:
    assert platform_is_xcb(env) is xcb


def test_offscreen_needs_only_qts_own_libraries() -> None:
    asked: list[str] = []
    assert missing_libraries({"QT_QPA_PLATFORM": "offscreen"}, lambda name: asked.append(name) or True) == []
    assert asked == [library.soname for library in QT_LIBRARIES]


def test_missing_xcb_libraries_are_named_with_their_packages_once() -> None:
    env = {"DISPLAY": ":0"}
    hidden = {"libxcb-icccm.so.4", "libxcb-shape.so.0", "libxcb-xkb.so.1"}
    missing = missing_libraries(env, lambda name: name not in hidden)
    assert {library.soname for library in missing} == hidden
    message = missing_libraries_message(missing, env)
    assert "apt-get install libxcb-icccm4 libxcb-shape0 libxcb-xkb1\n" in message
    assert "dnf install xcb-util-wm libxcb\n" in message  # one package, named once
    assert "outpost serve" in message


def test_every_xcb_library_has_a_debian_and_a_fedora_package() -> None:
    for library in QT_LIBRARIES + XCB_LIBRARIES:
        assert library.soname.startswith("lib")
        assert ".so." in library.soname
        assert library.debian
        assert library.fedora


def test_the_c_locale_becomes_c_utf8_for_the_encoding_only() -> None:
    env = {"LC_ALL": "C", "LANG": "C"}
    use_utf8_locale(env)
    assert "LC_ALL" not in env
    assert env["LC_CTYPE"] == "C.UTF-8"
    assert env["LC_MESSAGES"] == "C"
    assert env["LANG"] == "C"


def test_no_display_is_said_before_qt_and_an_empty_platform_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    env = {"QT_QPA_PLATFORM": "", "LANG": "C.UTF-8"}
    assert console_environment_problem(env) == NO_DISPLAY_MESSAGE
    assert "QT_QPA_PLATFORM" not in env
    assert no_display({"QT_QPA_PLATFORM": "offscreen"}) is False
    assert no_display({"WAYLAND_DISPLAY": "wayland-0"}) is False
