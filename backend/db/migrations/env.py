"""Alembic environment: runs on the connection Outpost hands it (or a dev database by -x db=PATH)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import backend.auth.models
import backend.collections.models
import backend.jobs.models
import backend.observability.audit_models
import backend.records.models
import backend.system.models  # noqa: F401
from backend.db.base import Base
from backend.db.migrate import include_object
from backend.db.sqlite import configure_sqlite_engine


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        transaction_per_migration=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    # Developer use: `alembic -x db=path/to/outpost.db revision --autogenerate -m "..."`.
    path = context.get_x_argument(as_dictionary=True).get("db", "outpost-dev.db")
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    configure_sqlite_engine(engine, synchronous="FULL", begin="BEGIN IMMEDIATE", foreign_keys=False)
    with engine.connect() as dev_connection:
        run_migrations(dev_connection)
