"""A real `outpost serve` with one administrator, for end-to-end tests that drive it with parallel clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.backend_process import BackendProcess
from tests.e2e.test_audit_concurrency import ADMIN, create_user

# The load is the point of such tests, not the per-principal limiter (whose 429 has its own tests).
UNLIMITED = {"OUTPOST_RATE_LIMIT_PER_MINUTE": str(10**6)}


@contextmanager
def admin_backend(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[BackendProcess]:
    """A backend on data_dir, started with env added to its environment, with ADMIN as its administrator."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        process = BackendProcess(data_dir)
    try:
        process.wait_ready()
        create_user(process.data_dir, *ADMIN, "admin")
        yield process
    finally:
        process.kill()
