"""Helpers of the identity and access tests: a running instance, people, tokens, the database, problem replies."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.auth.identity import Identity
from backend.auth.tokens import AUDIENCE, ISSUER, derive_key
from backend.datadir import load_or_create_secret
from backend.errors import PROBLEM_JSON
from backend.settings import Settings, load_settings
from backend.startup import prepare_data_dir
from tests.conftest import TEST_HOST, sign_in_first_admin
from tests.postgres import copied_postgres_database, fresh_postgres_database, plain_engine

# Passes the policy for every email used in these tests (no email local part of 4+ letters in it).
PASSWORD = "correct horse battery staple 7"
CHALLENGE = 'Bearer realm="outpost"'


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a bearer token (an access JWT or an API key)."""
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem reply with this status; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    return body


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    """A 401 problem that tells the client how to authenticate."""
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == CHALLENGE
    return body


def field_errors(body: dict[str, Any]) -> set[str]:
    """The fields a 422 problem names."""
    return {error["field"] for error in body.get("errors", [])}


def db_time(moment: datetime) -> str:
    """A UTC moment as the database stores it (SQLite keeps datetimes as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Person:
    """A signed-in user: their id, email and current tokens."""

    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


class Instance:
    """A running app (in-process) with its first administrator signed in, and ways to look inside."""

    def __init__(self, client: TestClient[Litestar], settings: Settings, admin: dict[str, str] | None = None) -> None:
        self.client = client
        self.settings = settings
        self.admin = admin or sign_in_first_admin(client)
        self.admin_id: str = client.get("/api/v1/auth/me", headers=self.admin).json()["id"]

    @property
    def identity(self) -> Identity:
        return self.client.app.state.identity

    @property
    def secret(self) -> bytes:
        return load_or_create_secret(self.settings.paths, self.settings.secret_file, self.settings.secret_key)

    @property
    def signing_key(self) -> str:
        """The key the app signs and checks access tokens with."""
        return derive_key(self.secret, "jwt").hex()

    def call(self, function: Any, *args: Any) -> Any:
        """Run an async function of the app's services on the app's own event loop."""
        with self.client.portal() as portal:
            return portal.call(function, *args)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (qmark parameters) on the real database, committed; its rows."""
        if not self.settings.database_url:
            with closing(sqlite3.connect(self.settings.paths.database, timeout=10)) as db, db:
                return db.execute(statement, params).fetchall()
        engine = plain_engine(self.settings)
        try:
            with engine.begin() as connection:
                result = connection.exec_driver_sql(statement.replace("?", "%s"), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def change_behind_services(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        """Change rows the directory caches (users, roles, keys) by hand, then drop its caches as a service would."""
        self.sql(statement, params)
        self.identity.directory.invalidate()

    def create_user(self, email: str, roles: list[str] | tuple[str, ...] = (), password: str = PASSWORD) -> str:
        """A new user made by the administrator; their id."""
        response = self.client.post(
            "/api/v1/users", json={"email": email, "password": password, "roles": list(roles)}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """The tokens of a successful sign-in."""
        response = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def sign_in(self, email: str, roles: list[str] | tuple[str, ...] = ()) -> Person:
        """Create a user with these roles and sign them in."""
        user_id = self.create_user(email, roles)
        tokens = self.login(email)
        return Person(user_id, email, tokens["access_token"], tokens["refresh_token"])

    def me(self, headers: dict[str, str]) -> httpx.Response:
        return self.client.get("/api/v1/auth/me", headers=headers)

    def logout(self, headers: dict[str, str]) -> httpx.Response:
        # An empty JSON body: a body-less POST is refused with 415 (see test_sessions.py).
        return self.client.post("/api/v1/auth/logout", json={}, headers=headers)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})

    def backdate_password_change(self, user_id: str, seconds: int) -> None:
        """Move the user's last password change (their creation, at first) back, so earlier tokens can be made."""
        moment = datetime.now(UTC) - timedelta(seconds=seconds)
        self.change_behind_services("UPDATE users SET password_changed_at = ? WHERE id = ?", (db_time(moment), user_id))

    def create_api_key(self, headers: dict[str, str], scopes: list[str], **extra: Any) -> dict[str, Any]:
        """A new API key's reply (the key and its view)."""
        response = self.client.post(
            "/api/v1/api-keys", json={"name": "test key", "scopes": scopes, **extra}, headers=headers
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims of a valid access token of the administrator; a change to None drops that claim."""
        now = datetime.now(UTC).replace(microsecond=0)
        claims: dict[str, Any] = {
            "sub": self.admin_id,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sid": str(uuid.uuid4()),
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def forge(self, claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
        """A JWT over claims, signed with the app's key (or another one) and algorithm."""
        return jwt.encode(claims, key or self.signing_key, algorithm=algorithm)

    def audit_rows(self, action: str) -> list[dict[str, Any]]:
        """The audit rows of one action, oldest first, read from the table."""
        columns = ("id", "actor_type", "actor_label", "action", "target", "client", "outcome", "details")
        rows = self.sql(f"SELECT {', '.join(columns)} FROM audit_events WHERE action = ? ORDER BY id", (action,))
        # JSON text on SQLite; PostgreSQL's json column comes back decoded.
        return [
            {
                **dict(zip(columns, row, strict=True)),
                "details": row[-1] if isinstance(row[-1], dict) else json.loads(row[-1]),
            }
            for row in rows
        ]


@contextmanager
def running_instance(data_dir: Path, admin: dict[str, str] | None = None, **flags: Any) -> Iterator[Instance]:
    """An app over data_dir, its lifespan running, its first administrator signed in (admin: already so)."""
    flags = {"backup_interval_hours": 0, **flags}  # no scheduled backup racing the tests that count jobs or events
    settings = load_settings({"data_dir": data_dir, "allowed_hosts": f"{TEST_HOST},testserver", **flags}, {})
    app = create_app(prepare_data_dir(settings).settings)
    with TestClient(app, base_url=f"http://{TEST_HOST}") as client:
        yield Instance(client, settings, admin)


@dataclass(frozen=True)
class Template:
    """A data dir (and, on PostgreSQL, a database) where the first administrator exists and is signed in."""

    data_dir: Path
    admin: dict[str, str]
    database_url: str | None = None

    @contextmanager
    def copy(self, data_dir: Path, **flags: Any) -> Iterator[Instance]:
        """A running instance over a copy of the template (Argon2 work done once, not per test)."""
        shutil.copytree(self.data_dir, data_dir)
        if self.database_url is None:
            with running_instance(data_dir, self.admin, **flags) as instance:
                yield instance
            return
        with (
            copied_postgres_database(self.database_url) as url,
            running_instance(data_dir, self.admin, database_url=url, **flags) as instance,
        ):
            yield instance


def make_template(data_dir: Path, **flags: Any) -> Template:
    """Migrate, create the first administrator and sign in; the app is stopped again."""
    with running_instance(data_dir, **flags) as instance:
        admin = instance.admin
    return Template(data_dir, admin, flags.get("database_url"))


@contextmanager
def template_on(engine: str, data_dir: Path) -> Iterator[Template]:
    """A template on engine ("sqlite", or "postgresql": a database of its own for as long as it is used)."""
    if engine == "sqlite":
        yield make_template(data_dir)
        return
    with fresh_postgres_database() as url:
        yield make_template(data_dir, database_url=url)
