"""Jobs: the truth about every background job; jobs:read for editors and viewers, jobs:write for editors.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANTED = {"editor": ["jobs:read", "jobs:write"], "viewer": ["jobs:read"]}


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message", sa.String(length=500), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("lock_key", sa.String(length=80), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("retry_of", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_type", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_label", sa.String(length=254), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_state", ["state"], unique=False)
        batch_op.create_index("ix_jobs_kind", ["kind"], unique=False)
        batch_op.create_index("ix_jobs_created_at", ["created_at", "id"], unique=False)
        batch_op.create_index("ux_jobs_dedupe_key", ["dedupe_key"], unique=True)
    _grant(add=True)


def downgrade() -> None:
    _grant(add=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ux_jobs_dedupe_key")
        batch_op.drop_index("ix_jobs_created_at")
        batch_op.drop_index("ix_jobs_kind")
        batch_op.drop_index("ix_jobs_state")
    op.drop_table("jobs")


def _grant(*, add: bool) -> None:
    """Give (or take back) the built-in roles their job permissions."""
    connection = op.get_bind()
    for name, permissions in GRANTED.items():
        row = connection.execute(sa.text("SELECT permissions FROM roles WHERE name = :name"), {"name": name}).first()
        if row is None:
            continue
        held = json.loads(row[0]) if isinstance(row[0], str) else list(row[0])
        changed = (
            [*held, *(p for p in permissions if p not in held)] if add else [p for p in held if p not in permissions]
        )
        connection.execute(
            sa.text("UPDATE roles SET permissions = :permissions WHERE name = :name"),
            {"permissions": json.dumps(changed), "name": name},
        )
