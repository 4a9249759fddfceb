"""Saved settings as JSON text: a JSON column has numeric affinity in SQLite, so "20000000" came back an int.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The rebuild copies every row into a TEXT column, which stores a number as its text: 20000000
    # becomes '20000000', the JSON text it was saved as. The UPDATE states the repair outright.
    with op.batch_alter_table("saved_settings", schema=None) as batch_op:
        batch_op.alter_column(
            "value", existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using="value::text"
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE saved_settings SET value = CAST(value AS TEXT) WHERE typeof(value) <> 'text'")


def downgrade() -> None:
    with op.batch_alter_table("saved_settings", schema=None) as batch_op:
        batch_op.alter_column(
            "value", existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using="value::json"
        )
