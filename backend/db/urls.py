"""Database and Redis URLs: which engine a URL names, and how to show one without its password."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

POSTGRES_DRIVER = "postgresql+asyncpg"
# What people write for PostgreSQL; each means the one driver Outpost speaks it with.
_POSTGRES_SCHEMES = {"postgres", "postgresql", POSTGRES_DRIVER}


def parse_database_url(value: str) -> str:
    """A server database URL, its scheme made postgresql+asyncpg; ValueError naming what is wrong."""
    text = str(value).strip()
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError("is not a database URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)") from None
    if url.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(
            f"names the engine {url.drivername!r}; a server database is PostgreSQL (postgresql://…). "
            "Without a database URL Outpost keeps SQLite in its data directory."
        )
    if not url.database:
        raise ValueError("names no database (postgresql://USER@HOST/DATABASE)")
    return url.set(drivername=POSTGRES_DRIVER).render_as_string(hide_password=False)


def parse_redis_url(value: str) -> str:
    """A Redis URL (redis://, rediss:// or unix://); ValueError naming what is wrong."""
    text = str(value).strip()
    scheme, separator, rest = text.partition("://")
    if not separator or scheme not in ("redis", "rediss", "unix") or not rest:
        raise ValueError("is not a Redis URL (redis://[:PASSWORD@]HOST:PORT/DB, rediss:// for TLS)")
    return text


def shown_database_url(value: str) -> str:
    """The URL as people and logs may see it: the password replaced by ***."""
    return make_url(value).render_as_string(hide_password=True)


def shown_url(value: str) -> str:
    """Any service URL (database or Redis) with its password replaced by ***."""
    scheme, _, rest = value.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return value
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}"


def database_url(value: str) -> URL:
    """The URL as SQLAlchemy's engines take it."""
    return make_url(value)
