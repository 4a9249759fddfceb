"""Database URLs: PostgreSQL in any of its spellings, anything else refused by name, passwords never shown."""

from __future__ import annotations

import pytest

from backend.db.urls import parse_database_url, shown_database_url
from backend.settings import SettingError, load_settings


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_every_spelling_of_postgresql_means_asyncpg(scheme: str) -> None:
    assert (
        parse_database_url(f"{scheme}://u:pw@db.example:5433/outpost")
        == "postgresql+asyncpg://u:pw@db.example:5433/outpost"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("mysql://u@h/db", "names the engine 'mysql'"),
        ("sqlite:///x.db", "names the engine 'sqlite'"),
        ("postgresql://u@h", "names no database"),
        ("not a url", "is not a database URL"),
    ],
)
def test_other_urls_are_refused_saying_why(value: str, reason: str) -> None:
    with pytest.raises(SettingError, match=reason) as refused:
        load_settings({"database_url": value}, {})
    assert refused.value.name == "database_url"


def test_the_password_is_never_shown() -> None:
    url = "postgresql+asyncpg://outpost:s3cret-pw@db:5432/outpost"
    assert "s3cret-pw" not in shown_database_url(url)
    settings = load_settings({}, {"OUTPOST_DATABASE_URL": url})
    assert settings.mode == "server"
    assert "s3cret-pw" not in repr(settings)
    assert settings.public_view()["database_url"]["value"] == "postgresql+asyncpg://outpost:***@db:5432/outpost"


def test_without_a_url_the_mode_is_embedded() -> None:
    assert load_settings({}, {}).mode == "embedded"


def test_a_redis_url_alone_is_refused() -> None:
    with pytest.raises(SettingError, match="database_url") as refused:
        load_settings({"redis_url": "redis://127.0.0.1:6379/0"}, {})
    assert refused.value.name == "redis_url"
