"""The data directory: its layout, permissions, signing secret, lock and runtime file."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class DataDir:
    """Paths of everything Outpost keeps under one directory."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "outpost.db"

    @property
    def queue(self) -> Path:
        return self.root / "queue.db"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def imports(self) -> Path:
        return self.root / "imports"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret.key"

    @property
    def audit_anchor(self) -> Path:
        return self.root / "audit.anchor"

    @property
    def restore_marker(self) -> Path:
        """Left by a restore, until the restored database was settled (its jobs set aside, the restore audited)."""
        return self.root / "restored.json"

    @property
    def setup_token(self) -> Path:
        return self.root / "setup.token"

    @property
    def runtime_file(self) -> Path:
        return self.root / "runtime.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "outpost.lock"

    @property
    def control_socket(self) -> Path:
        return self.root / "control.sock"

    def ensure(self) -> DataDir:
        """Create the directory tree, owner-only."""
        for path in (self.root, self.logs, self.backups, self.exports, self.imports, self.cache):
            path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            os.chmod(path, DIR_MODE)
        return self


def make_files_owner_only() -> None:
    """Have every file and directory this process creates from now on be owner-only.

    Libraries (diskcache, SQLite, Huey, logging) create their files with the umask's mode, 0644 on
    most systems; a process that owns a data dir makes nothing for other users to read.
    """
    os.umask(0o077)


def write_private_file(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write a file only its owner can read, replacing it atomically (fsynced unless durable=False)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_or_create_secret(data_dir: DataDir, secret_file: Path | None, secret_key: str | None) -> bytes:
    """The instance's signing secret: given explicitly, or secret.key made on first start."""
    if secret_key:
        return secret_key.encode()
    path = secret_file or data_dir.secret_key
    if path.exists():
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise SecretError(f"the secret in {path} is too short (need at least 32 bytes)")
        return secret
    if secret_file is not None:
        raise SecretError(f"the secret file {path} does not exist")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:  # another process made it between our check and open
        return path.read_bytes().strip()
    secret = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    return secret


class SecretError(RuntimeError):
    """The signing secret cannot be read or is unusable."""


class DataDirBusy(RuntimeError):
    """Another process holds the data directory."""

    def __init__(self, data_dir: DataDir, runtime: dict[str, Any] | None) -> None:
        self.runtime = runtime or {}
        who = "another Outpost process"
        if self.runtime.get("pid"):
            who = f"Outpost (pid {self.runtime['pid']}"
            if self.runtime.get("url"):
                who += f", {self.runtime['url']}"
            who += ")"
        super().__init__(f"{who} is already running on {data_dir.root}")


class DataDirLock:
    """An exclusive advisory lock on the data directory, held for a process's life."""

    def __init__(self, data_dir: DataDir) -> None:
        self.data_dir = data_dir
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise DataDirBusy naming the holder."""
        fd = os.open(self.data_dir.lock_file, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirBusy(self.data_dir, read_runtime(self.data_dir)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the next process have the directory."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(data_dir: DataDir) -> bool:
    """Whether some process holds the data directory's lock right now."""
    if not data_dir.lock_file.exists():
        return False
    fd = os.open(data_dir.lock_file, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def write_runtime(data_dir: DataDir, info: dict[str, Any]) -> None:
    """Publish how to reach the running backend."""
    write_private_file(data_dir.runtime_file, json.dumps(info).encode())


def read_runtime(data_dir: DataDir) -> dict[str, Any] | None:
    """What the running backend published, if anything readable."""
    try:
        data = json.loads(data_dir.runtime_file.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def clear_runtime(data_dir: DataDir) -> None:
    """Withdraw the runtime file on shutdown."""
    data_dir.runtime_file.unlink(missing_ok=True)
