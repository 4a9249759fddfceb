"""Access taken away after a backup stays away once it is restored; access added since is not carried."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from backend.datadir import DataDir
from backend.db.migrate import upgrade_database
from backend.system.restore_access import carry_access_forward

THEN = "2026-01-01 00:00:00.000000"
LATER = "2026-02-01 00:00:00.000000"


def _database(root: Path) -> Path:
    paths = DataDir(root).ensure()
    upgrade_database(paths)
    return paths.database


def _run(database: Path, *statements: str) -> None:
    with closing(sqlite3.connect(database)) as connection, connection:
        for statement in statements:
            connection.execute(statement)


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return list(connection.execute(query))


def _user(user_id: str) -> str:
    return (
        "INSERT INTO users (id, email, email_key, display_name, password_hash, is_active, created_at, updated_at,"
        f" password_changed_at) VALUES ('{user_id}', '{user_id}@x.org', '{user_id}@x.org', '', 'old-hash', 1,"
        f" '{THEN}', '{THEN}', '{THEN}')"
    )


def _key(key_id: str, owner: str) -> str:
    return (
        "INSERT INTO api_keys (id, prefix, secret_digest, name, owner_id, scopes, created_at)"
        f" VALUES ('{key_id}', 'p{key_id}', 'd', '{key_id}', '{owner}', '[]', '{THEN}')"
    )


def _session(token_id: str, user: str) -> str:
    return (
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_digest, issued_at, expires_at, family_expires_at)"
        f" VALUES ('{token_id}', 'f{token_id}', '{user}', 'd{token_id}', '{THEN}', '{LATER}', '{LATER}')"
    )


def _role(name: str, permissions: str) -> str:
    return (
        "INSERT INTO roles (name, description, permissions, builtin, created_at, updated_at)"
        f" VALUES ('{name}', '', '{permissions}', 0, '{THEN}', '{THEN}')"
    )


def test_what_was_taken_away_since_the_backup_stays_away(tmp_path: Path) -> None:
    backup = _database(tmp_path / "backup")
    _run(
        backup,
        *(_user(name) for name in ("kept", "gone", "disabled", "renamed")),
        *(_key(key, "kept") for key in ("k-kept", "k-revoked", "k-deleted")),
        _session("s-old", "kept"),
        _role("clerk", '["users:read","roles:read"]'),
        _role("temp", '["audit:read"]'),
        "INSERT INTO user_roles VALUES ('kept', 'clerk'), ('renamed', 'clerk')",
    )
    now = tmp_path / "now.db"
    shutil.copyfile(backup, now)
    _run(
        now,
        "DELETE FROM users WHERE id = 'gone'",
        "UPDATE users SET is_active = 0 WHERE id = 'disabled'",
        f"UPDATE users SET password_hash = 'new-hash', password_changed_at = '{LATER}' WHERE id = 'kept'",
        f"UPDATE api_keys SET revoked_at = '{LATER}' WHERE id = 'k-revoked'",
        "DELETE FROM api_keys WHERE id = 'k-deleted'",
        "DELETE FROM refresh_tokens",
        _session("s-new", "kept"),
        _session("s-of-a-new-user", "new"),
        _user("new"),
        """UPDATE roles SET permissions = '["users:read","audit:read"]' WHERE name = 'clerk'""",
        "DELETE FROM roles WHERE name = 'temp'",
        "DELETE FROM user_roles WHERE user_id = 'renamed'",
    )

    carried = carry_access_forward(backup, now)

    users = dict(_rows(backup, "SELECT id, is_active || ' ' || password_hash FROM users"))
    assert users == {"kept": "1 new-hash", "gone": "0 old-hash", "disabled": "0 old-hash", "renamed": "1 old-hash"}
    keys = dict(_rows(backup, "SELECT id, revoked_at IS NOT NULL FROM api_keys"))
    assert keys == {"k-kept": 0, "k-revoked": 1, "k-deleted": 1}
    assert _rows(backup, "SELECT revoked_at FROM api_keys WHERE id = 'k-revoked'") == [(LATER,)]
    roles = dict(_rows(backup, "SELECT name, permissions FROM roles WHERE NOT builtin"))
    assert roles == {"clerk": '["users:read"]', "temp": "[]"}  # audit:read, added since, is not carried
    assert _rows(backup, "SELECT user_id, role_name FROM user_roles") == [("kept", "clerk")]
    assert _rows(backup, "SELECT id FROM refresh_tokens") == [("s-new",)]  # no user "new" in the backup
    assert _rows(backup, "SELECT id FROM users WHERE id = 'new'") == []
    assert carried["keys_revoked"] == 2
    assert carried["users_disabled"] == 2
    assert (carried["passwords_changed"], carried["roles_narrowed"], carried["roles_emptied"]) == (1, 1, 1)
