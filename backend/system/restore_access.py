"""A restore never gives back access taken away after the backup: that part of the replaced database is kept.

A backup holds the credentials of its day. Restored as they were, a key revoked since (a leaked one, say)
would work again, a fired user could sign in, a password changed since would be the old one again. So,
after the swap, what the replaced database (kept as the pre-restore backup) says about access is carried
into the restored one wherever it takes access away; records, schemas and everything else are the backup's:

- a user deleted since is disabled; one disabled since stays disabled; a password changed since is the new one;
- a role deleted since grants nothing; a role keeps only the permissions it still has; a role taken from a
  user since stays taken;
- an API key deleted or revoked since is revoked;
- sessions are the replaced database's (a session ended since stays ended; one still open goes on), and so
  are signed-out access tokens.

Access added since the backup (a new user, key or permission) is not carried: it is the backup's day again.
SQLite only, as restore is (server mode backs up with pg_dump).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

# Each statement runs with the replaced database attached as "now"; :at is this moment, as moments are kept.
_CARRY: dict[str, str] = {
    "users_disabled": """
        UPDATE users SET is_active = 0
        WHERE is_active AND NOT EXISTS (SELECT 1 FROM now.users n WHERE n.id = users.id AND n.is_active)""",
    "passwords_changed": """
        UPDATE users SET password_hash = n.password_hash, password_changed_at = n.password_changed_at
        FROM now.users n WHERE n.id = users.id AND n.password_changed_at > users.password_changed_at""",
    "roles_emptied": """
        UPDATE roles SET permissions = '[]'
        WHERE NOT builtin AND permissions <> '[]' AND name NOT IN (SELECT name FROM now.roles)""",
    "roles_narrowed": """
        UPDATE roles SET permissions = (
            SELECT json_group_array(p.value) FROM json_each(roles.permissions) p
            WHERE p.value IN (SELECT value FROM json_each(n.permissions)))
        FROM now.roles n
        WHERE n.name = roles.name AND NOT roles.builtin AND EXISTS (
            SELECT 1 FROM json_each(roles.permissions) p
            WHERE p.value NOT IN (SELECT value FROM json_each(n.permissions)))""",
    "roles_taken": """
        DELETE FROM user_roles
        WHERE user_id IN (SELECT id FROM now.users) AND NOT EXISTS (
            SELECT 1 FROM now.user_roles n
            WHERE n.user_id = user_roles.user_id AND n.role_name = user_roles.role_name)""",
    "keys_revoked": """
        UPDATE api_keys
        SET revoked_at = coalesce((SELECT n.revoked_at FROM now.api_keys n WHERE n.id = api_keys.id), :at)
        WHERE revoked_at IS NULL AND NOT EXISTS (
            SELECT 1 FROM now.api_keys n WHERE n.id = api_keys.id AND n.revoked_at IS NULL)""",
}
_CARRIED_TABLES = ("refresh_tokens", "revoked_access_tokens")  # replaced whole by the replaced database's rows


def carry_access_forward(database: Path, replaced: Path) -> dict[str, int]:
    """Take into database what replaced says about access wherever it takes access away; how much, by kind."""
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as UtcDateTime keeps moments on SQLite
    done: dict[str, int] = {}
    with closing(sqlite3.connect(f"file:{database}", uri=True, isolation_level=None)) as connection:
        connection.execute("ATTACH DATABASE ? AS now", (f"file:{replaced}?mode=ro",))
        connection.execute("BEGIN IMMEDIATE")
        try:
            for name, statement in _CARRY.items():
                done[name] = connection.execute(statement, {"at": at}).rowcount
            for table in _CARRIED_TABLES:
                columns = ", ".join(row[1] for row in connection.execute(f"PRAGMA main.table_info({table})"))
                connection.execute(f"DELETE FROM main.{table}")
                kept = connection.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM now.{table}")
                done[table] = kept.rowcount
            connection.execute("DELETE FROM refresh_tokens WHERE user_id NOT IN (SELECT id FROM users)")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("DETACH DATABASE now")
    return done
