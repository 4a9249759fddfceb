"""Email keys in NFKC + casefold (they were only lower-cased), emails stored in NFKC.

Two existing users whose addresses now share a key keep their old keys (nothing is merged or
dropped) and the collision is logged for an administrator to settle.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import logging
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("outpost.migrate")


# Frozen copies of backend.auth.emails as of this revision: a migration must not change when the code does.
def normal_form(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).strip())


def email_key(email: str) -> str:
    return normal_form(normal_form(email).casefold())


users = sa.table("users", sa.column("id", sa.String), sa.column("email", sa.String), sa.column("email_key", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.email, users.c.email_key)).all()
    by_key: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_key[email_key(row.email)].append(row.id)
    colliding = {user_id for ids in by_key.values() if len(ids) > 1 for user_id in ids}
    for ids in (ids for ids in by_key.values() if len(ids) > 1):
        logger.warning("users share one email under the new normalisation; their old keys are kept: %s", sorted(ids))
    # A row's new key may be another row's old key (whose key changes too): park the changing keys first.
    changing = [row for row in rows if row.id not in colliding and email_key(row.email) != row.email_key]
    for row in changing:
        connection.execute(sa.update(users).where(users.c.id == row.id).values(email_key=f"migrating:{row.id}"))
    for row in changing:
        connection.execute(
            sa.update(users)
            .where(users.c.id == row.id)
            .values(email_key=email_key(row.email), email=normal_form(row.email))
        )


def downgrade() -> None:
    """Keys go back to lower-case (the NFKC emails stay); a collision there keeps the newer key."""
    connection = op.get_bind()
    for row in connection.execute(sa.select(users.c.id, users.c.email)).all():
        old = row.email.strip().lower()
        taken = connection.execute(sa.select(users.c.id).where(users.c.email_key == old, users.c.id != row.id)).first()
        if taken is None:
            connection.execute(sa.update(users).where(users.c.id == row.id).values(email_key=old))
