"""Fixtures of the identity and access tests: an instance of the test's own, or one shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.auth.helpers import Instance, Template, make_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A migrated data dir with the first administrator signed in (their access token lasts 15 minutes)."""
    return make_template(tmp_path_factory.mktemp("template") / "data")


@pytest.fixture
def fresh(template: Template, data_dir: Path) -> Iterator[Instance]:
    """An instance of this test's own: a copy of the template, running."""
    with template.copy(data_dir) as instance:
        yield instance


@pytest.fixture(scope="module")
def shared(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """An instance shared by a module's tests (each makes users of its own)."""
    with template.copy(tmp_path_factory.mktemp("shared") / "data") as instance:
        yield instance
