"""Fixtures of the identity and access tests: an instance of the test's own, or one shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.auth.helpers import Instance, running_instance


@pytest.fixture
def fresh(data_dir: Path) -> Iterator[Instance]:
    """An instance of this test's own."""
    with running_instance(data_dir) as instance:
        yield instance


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """An instance shared by a module's tests (each makes users of its own)."""
    with running_instance(tmp_path_factory.mktemp("shared") / "data") as instance:
        yield instance

