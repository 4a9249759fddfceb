"""Smoke tests of the built executable, run by CI after the build: selftest, serve, the console."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.backend_process import BackendProcess
from tests.waiting import wait_until
from tests.xvfb import on_x11, xvfb_display

SIZE_GOAL_BYTES = 60 * 1024 * 1024
QT_LIBRARY_MARKERS = ("libQt6", "PySide6", "shiboken6", "libGL", "libEGL", "libxcb")


def mapped_files(pid: int) -> set[str]:
    """The files a running process has mapped (its loaded shared libraries among them)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def test_size_is_within_the_goal(exe: Path) -> None:
    assert exe.stat().st_size <= SIZE_GOAL_BYTES, f"{exe.stat().st_size / 1e6:.1f} MB"


def test_selftest_passes_with_the_window(exe: Path) -> None:
    done = subprocess.run([str(exe), "selftest"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stdout.strip()
    assert line.startswith("selftest passed: migrations"), line
    for check in ("database", "argon2id", "cache", "queue", "window"):
        assert f" {check} " in line


def test_headless_selftest_passes(exe: Path) -> None:
    done = subprocess.run([str(exe), "selftest", "--headless"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "window" not in done.stdout


def test_serve_answers_loads_no_qt_refuses_a_second_and_stops_cleanly(exe: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backend = BackendProcess(data_dir, program=(str(exe),))
    try:
        ready = backend.wait_ready()
        with httpx.Client(base_url=backend.url, timeout=10) as http:
            readiness = http.get("/ready")
            assert readiness.status_code == 200, readiness.text
            assert set(readiness.json()["checks"]) == {"database", "queue", "cache"}
            docs = http.get("/schema")
            assert docs.status_code == 200
            assert "/schema/assets/swagger-ui-bundle.js" in docs.text
            assert http.get("/schema/assets/swagger-ui-bundle.js").status_code == 200
            assert http.get("/schema/openapi.json").json()["openapi"].startswith("3.1")

        # A headless server has no GL or X libraries: serve must not load Qt at all.
        loaded = [path for path in mapped_files(ready["pid"]) if any(m in path for m in QT_LIBRARY_MARKERS)]
        assert loaded == []

        second = subprocess.run(
            [str(exe), "serve", "--port", "0", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        refusal = json.loads(second.stdout.splitlines()[-1])
        assert refusal["event"] == "error"
        assert str(ready["pid"]) in refusal["message"]
        assert httpx.get(f"{backend.url}/health", timeout=10).status_code == 200  # the first is unharmed

        # The signal goes to the one-file bootloader, which passes it to the program.
        assert backend.stop(signal.SIGTERM) == 0
        assert not (data_dir / "runtime.json").exists()
    finally:
        backend.kill()


@pytest.fixture
def console_env() -> dict[str, str]:
    """Offscreen Qt for a console started as a subprocess."""
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def test_console_spawns_the_executable_as_its_backend(exe: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "console.log"
    with log.open("wb") as stderr:
        console = subprocess.Popen(
            [str(exe), "gui", "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=console_env,
        )
        try:
            assert wait_until(lambda: "backend connected: http://127.0.0.1:" in log.read_text(), timeout_s=90), (
                log.read_text()
            )
            runtime = json.loads((data_dir / "runtime.json").read_text())
            cmdline = Path(f"/proc/{runtime['pid']}/cmdline").read_bytes().split(b"\0")
            assert b"serve" in cmdline
            # From the executable, the child is the executable itself (its bootloader's unpacked program).
            assert Path(f"/proc/{runtime['pid']}/exe").resolve() == exe.resolve()
            assert httpx.get(f"{runtime['url']}/ready", timeout=10).status_code == 200

            console.send_signal(signal.SIGTERM)
            assert console.wait(timeout=30) == 0
            assert wait_until(lambda: not Path(f"/proc/{runtime['pid']}").exists(), timeout_s=15)
            assert not (data_dir / "runtime.json").exists()
        finally:
            if console.poll() is None:
                console.kill()
                console.wait(timeout=10)


def test_console_opens_its_window_on_a_real_x_display(exe: Path, tmp_path: Path) -> None:
    # Qt's real xcb platform, not offscreen: a library the executable needs from the system and lacks fails here.
    with xvfb_display() as display:
        done = subprocess.run(
            [str(exe), "gui", "--quit-when-shown", "--data-dir", str(tmp_path / "data")],
            env=on_x11(display),
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "console window shown on the xcb platform" in done.stderr, done.stderr


def test_the_c_locale_brings_no_warning(exe: Path) -> None:
    # The one-file bootloader does not coerce the C locale as python3 does: Qt would warn on every start.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    done = subprocess.run([str(exe), "selftest"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Detected locale" not in done.stdout + done.stderr


GL_LIBRARIES = ("libGL.so", "libEGL.so", "libGLX.so", "libOpenGL.so", "libGLdispatch.so")


def without_gl(exe: Path) -> tuple[str, ...]:
    """A command prefix running exe in a mount namespace where the GL libraries are empty files."""
    libraries = sorted(
        {str(path.resolve()) for pattern in GL_LIBRARIES for path in Path("/usr/lib").glob(f"*/{pattern}*")}
    )
    if not libraries:
        pytest.skip("this machine has no GL libraries to hide")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot make a mount namespace here (unshare -m needs CAP_SYS_ADMIN)")
    hide = " && ".join(f"mount --bind /dev/null {library}" for library in libraries)
    return ("unshare", "-m", "sh", "-c", f'{hide} && exec "$@"', "sh", str(exe))


def test_serve_runs_on_a_machine_without_gl(exe: Path, tmp_path: Path) -> None:
    program = without_gl(exe)
    # The control: in this namespace the console's part really cannot load.
    windowed = subprocess.run([*program, "selftest"], capture_output=True, text=True, timeout=180)
    assert windowed.returncode == 1
    assert windowed.stdout.startswith("selftest FAILED window"), windowed.stdout + windowed.stderr

    headless = subprocess.run([*program, "selftest", "--headless"], capture_output=True, text=True, timeout=180)
    assert headless.returncode == 0, headless.stdout + headless.stderr

    backend = BackendProcess(tmp_path / "data", program=program)
    try:
        backend.wait_ready()
        assert httpx.get(f"{backend.url}/ready", timeout=10).status_code == 200
        assert backend.stop(signal.SIGTERM) == 0
    finally:
        backend.kill()
