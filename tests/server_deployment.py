"""A fresh server-mode deployment's environment for end-to-end tests: a new PostgreSQL database, the test
Redis, a shared secret file, and a first administrator made with the CLI (server mode has no /setup)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.backend_process import run_outpost
from tests.postgres import fresh_postgres_database, require_redis


@contextmanager
def server_deployment_env(
    root: Path, admin: dict[str, str], admin_command: Sequence[str] = (), **more: str
) -> Iterator[dict[str, str]]:
    """The OUTPOST_* environment every instance, worker and CLI command of the deployment runs with.

    admin_command: the CLI arguments that make the first administrator (by default `user create --role admin`
    with admin's email); its password goes by standard input.
    """
    redis_url = require_redis()
    secret_file = root / "secret.key"
    secret_file.write_text(secrets.token_urlsafe(48))
    secret_file.chmod(0o600)
    with fresh_postgres_database() as database_url:
        env = {
            "OUTPOST_DATABASE_URL": database_url,
            "OUTPOST_REDIS_URL": redis_url,
            "OUTPOST_SECRET_FILE": str(secret_file),
            **more,
        }
        args = admin_command or ("user", "create", "--email", admin["email"], "--role", "admin", "--password-stdin")
        made = run_outpost(*args, "--data-dir", str(root / "cli"), stdin=admin["password"] + "\n", env=env)
        assert made.returncode == 0, made.stderr
        yield env
