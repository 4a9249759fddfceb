"""Getting a data directory ready to serve: layout, secret, migrations, saved settings."""

from __future__ import annotations

from dataclasses import dataclass

from backend.datadir import load_or_create_secret
from backend.db.factory import migrate
from backend.db.migrate import MigrationResult
from backend.settings import Settings
from backend.system.saved_settings import read_saved_settings


@dataclass(frozen=True)
class Prepared:
    """Settings with saved values applied, the signing secret, and what migrating did."""

    settings: Settings
    secret: bytes
    migration: MigrationResult


def prepare_data_dir(settings: Settings) -> Prepared:
    """Make the data directory usable; the caller must hold its lock."""
    paths = settings.paths.ensure()
    secret = load_or_create_secret(paths, settings.secret_file, settings.secret_key)
    migration = migrate(settings)
    saved = read_saved_settings(settings)
    saved.log_problems()  # a saved value that cannot be used is named and skipped, never fatal
    final = settings.with_saved(saved.values)
    return Prepared(final, secret, migration)
