"""The data directory: owner-only permissions, the secret, the lock and runtime.json."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from backend.datadir import (
    DataDir,
    DataDirBusy,
    DataDirLock,
    SecretError,
    is_locked,
    load_or_create_secret,
    read_runtime,
    write_runtime,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_makes_owner_only_directories(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    for path in (paths.root, paths.logs, paths.backups):
        assert mode(path) == 0o700


def test_ensure_tightens_an_existing_directory(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir(mode=0o755)
    DataDir(root).ensure()
    assert mode(root) == 0o700


def test_secret_is_made_once_owner_only_and_reused(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    first = load_or_create_secret(paths, None, None)
    assert len(first) >= 32
    assert mode(paths.secret_key) == 0o600
    assert load_or_create_secret(paths, None, None) == first


def test_explicit_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    assert load_or_create_secret(paths, None, "k" * 40) == b"k" * 40
    assert not paths.secret_key.exists()


def test_secret_file_must_exist_and_be_long_enough(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    with pytest.raises(SecretError, match="does not exist"):
        load_or_create_secret(paths, tmp_path / "missing", None)
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(SecretError, match="too short"):
        load_or_create_secret(paths, short, None)


def test_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    write_runtime(paths, {"pid": 4242, "url": "http://127.0.0.1:1"})
    with DataDirLock(paths):
        assert is_locked(paths)
        with pytest.raises(DataDirBusy, match=r"pid 4242, http://127.0.0.1:1"):
            DataDirLock(paths).acquire()
    assert not is_locked(paths)
    DataDirLock(paths).acquire().release()


def test_runtime_file_is_private_and_round_trips(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "d").ensure()
    write_runtime(paths, {"url": "http://127.0.0.1:5", "pid": 7})
    assert read_runtime(paths) == {"url": "http://127.0.0.1:5", "pid": 7}
    assert mode(paths.runtime_file) == 0o600
    paths.runtime_file.write_text("not json")
    assert read_runtime(paths) is None
