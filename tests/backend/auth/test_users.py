"""Listing users: each user's roles, read for a whole page in one query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.backend.auth.helpers import Instance


def add_users_behind_services(instance: Instance, count: int) -> dict[str, list[str]]:
    """count users copied from the administrator's row, every other one an editor too; emails to their roles."""
    roles = {}
    for n in range(count):
        email = f"listed{n:03d}@example.org"
        user_id = f"00000000-0000-4000-8000-{n:012d}"
        instance.sql(
            "INSERT INTO users SELECT ?, ?, ?, display_name, password_hash, is_active, created_at, updated_at, "
            "last_login_at, password_changed_at FROM users WHERE id = ?",
            (user_id, email, email, instance.admin_id),
        )
        held = ["editor", "viewer"] if n % 2 else ["viewer"]
        for role in held:
            instance.sql("INSERT INTO user_roles (user_id, role_name) VALUES (?, ?)", (user_id, role))
        roles[email] = held
    return roles


@contextmanager
def counted_statements(instance: Instance) -> Iterator[list[str]]:
    """The SQL statements the app's readers run inside the block."""
    statements: list[str] = []
    engine = instance.client.app.state.db.reader_engine.sync_engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_page_of_users_reads_their_roles_in_one_query(fresh: Instance) -> None:
    roles = add_users_behind_services(fresh, 40)
    with counted_statements(fresh) as small:
        assert fresh.client.get("/api/v1/users?limit=2", headers=fresh.admin).status_code == 200
    with counted_statements(fresh) as large:
        reply = fresh.client.get("/api/v1/users?limit=100", headers=fresh.admin)
    assert reply.status_code == 200
    items = reply.json()["items"]
    assert len(items) == 41
    assert len(large) == len(small)  # not one more query per user
    assert sum("user_roles" in statement for statement in large) == 1
    for item in items:
        if item["email"] in roles:
            assert item["roles"] == roles[item["email"]]
    assert any(item["roles"] == ["admin"] for item in items)


def test_a_user_without_roles_lists_none(fresh: Instance) -> None:
    user_id = fresh.create_user("nobody@example.org")
    [item] = [
        item for item in fresh.client.get("/api/v1/users", headers=fresh.admin).json()["items"] if item["id"] == user_id
    ]
    assert item["roles"] == []
