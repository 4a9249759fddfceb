"""The README's Set up names the system packages, and CI installs exactly those (no list of its own)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from desktop.preflight import QT_LIBRARIES, XCB_LIBRARIES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI_RUN = (ROOT / ".ci" / "run").read_text()

# What a bare Debian 12 lacks to get the code (git), for the console (Qt offscreen and xcb), the venv and the tests.
NEEDED = {
    "git",
    "python3-venv",
    "libglib2.0-0",
    "libgl1",
    "libxkbcommon0",
    "libegl1",
    "libfontconfig1",
    "libdbus-1-3",
    "fonts-dejavu-core",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "xvfb",
}


def block(marker: str) -> str:
    """The README's text between <!-- marker --> and <!-- /marker -->."""
    found = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, re.DOTALL)
    assert found, f"no {marker} block in README.md"
    return found.group(1)


def installed_by(line_start: str, text: str) -> set[str]:
    """The package names on the lines of text that run line_start (options left out)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line_start in line:
            names.update(word for word in line.split(line_start, 1)[1].split() if not word.startswith("-"))
    return names


def test_readme_apt_lines_name_every_package_the_console_and_tests_need() -> None:
    assert installed_by("apt-get install", block("apt-packages")) >= NEEDED


def test_readme_has_a_dnf_line_for_the_console_and_for_the_tests() -> None:
    fedora = installed_by("dnf install", README)
    assert {"git", "python3", "xorg-x11-server-Xvfb", "glib2", "mesa-libGL", "xcb-util-cursor", "xcb-util-wm"} <= fedora


def test_every_library_the_console_checks_for_is_in_the_readme() -> None:
    debian = installed_by("apt-get install", block("apt-packages"))
    fedora = installed_by("dnf install", README)
    # The libraries a desktop install always has (libxcb1 …) need not be listed; the ones Debian 12 lacks must.
    for library in QT_LIBRARIES + XCB_LIBRARIES[:8]:
        assert library.debian in debian, library
        assert library.fedora in fedora, library


def test_ci_installs_the_readme_packages_and_keeps_no_list_of_its_own() -> None:
    assert "readme_command apt-packages" in CI_RUN
    assert "libglib2.0-0" not in CI_RUN
    # CI's own extraction, run on the README: the same names the test above reads.
    script = re.search(r"^readme_command\(\) \{.*?^\}", CI_RUN, re.DOTALL | re.MULTILINE)
    assert script
    extraction = re.search(r"mapfile -t packages < <\((.*)\)$", CI_RUN, re.MULTILINE)
    assert extraction
    done = subprocess.run(
        ["bash", "-c", f"{script.group(0)}\n{extraction.group(1)}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(done.stdout.split()) == installed_by("apt-get install", block("apt-packages"))
