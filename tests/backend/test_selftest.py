"""`outpost selftest`: every check runs on a throwaway data dir; failures are named, exit non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend import selftest
from backend.cli import cli
from backend.selftest import CheckOutcome, run_selftest, summary_line
from backend.settings import Settings


def test_every_backend_check_passes_and_the_data_dir_is_removed() -> None:
    seen: list[Path] = []
    outcomes = run_selftest([("spy", lambda settings: seen.append(settings.paths.root) or "seen")])
    assert [o.name for o in outcomes] == ["migrations", "database", "argon2id", "cache", "queue", "spy"]
    assert all(o.ok for o in outcomes), outcomes
    assert (seen[0] / "outpost.db").exists() is False  # the temporary tree is gone
    assert "selftest-" in str(seen[0])


def test_a_failing_check_is_named_and_the_others_still_run() -> None:
    def broken(_settings: Settings) -> str:
        raise RuntimeError("no disk")

    outcomes = run_selftest([("broken", broken)])
    assert [o.name for o in outcomes if not o.ok] == ["broken"]
    line = summary_line(outcomes)
    assert line.startswith("selftest FAILED broken (broken: no disk); passed: migrations, database")


def test_summary_of_a_pass_lists_every_check_with_its_time() -> None:
    line = summary_line([CheckOutcome("cache", True, "ok", 0.0123), CheckOutcome("queue", True, "ok", 0.2)])
    assert line == "selftest passed: cache 12 ms, queue 200 ms"


def test_cli_exits_1_naming_the_failed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_settings: Settings) -> str:
        raise selftest.SelftestFailure("read back something else")

    monkeypatch.setattr(selftest, "BACKEND_CHECKS", [*selftest.BACKEND_CHECKS[:1], ("cache", broken)])
    result = CliRunner().invoke(cli, ["selftest", "--headless"])
    assert result.exit_code == 1
    assert result.output.strip() == ("selftest FAILED cache (cache: read back something else); passed: migrations")


def test_headless_selftest_passes_without_loading_qt() -> None:
    code = (
        "import sys\n"
        "from backend.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    loaded = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'desktop'))]\n"
        "    assert not loaded, loaded\n"
        "    raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "selftest", "--headless"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("selftest passed: migrations")
    assert "window" not in done.stdout


def test_full_selftest_renders_the_window() -> None:
    done = subprocess.run([sys.executable, "-m", "backend", "selftest"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", window " in done.stdout
    assert done.stderr == ""
