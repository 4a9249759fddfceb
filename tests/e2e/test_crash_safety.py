"""A few rounds of the crash bench in every test run: SIGKILL while writing loses no acknowledged write."""

from __future__ import annotations

from tests.bench.crash_bench import run


def test_acknowledged_writes_survive_sigkill() -> None:
    assert run(rounds=3, seed=7) == 0
