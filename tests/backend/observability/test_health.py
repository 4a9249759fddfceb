"""/health says alive and which version; /ready checks the database and names what fails."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend import __version__
from backend.settings import Settings


def test_health(client: TestClient[Litestar]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_ready_checks_database_queue_and_cache(client: TestClient[Litestar]) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "queue", "cache"}
    assert all(part["ok"] for part in checks.values())
    assert checks["queue"]["detail"] == "0 pending"


def test_ready_counts_the_tasks_waiting(client: TestClient[Litestar]) -> None:
    queue = client.app.state.queue
    queue.stop_consumer()  # the app's own workers would take them at once
    queue.enqueue("echo", "a")
    queue.enqueue("echo", "b")
    assert client.get("/ready").json()["checks"]["queue"]["detail"] == "2 pending"


def test_not_ready_names_the_cache_when_it_fails(client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(client.app.state.cache, "round_trip", broken)
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "not ready: cache"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["detail"] == "OSError: disk I/O error"
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_names_the_database_when_schema_is_wrong(client: TestClient[Litestar], settings: Settings) -> None:
    with sqlite3.connect(settings.paths.database) as db:
        db.execute("UPDATE alembic_version SET version_num = 'other'")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "database" in body["detail"]
    assert body["checks"]["database"]["ok"] is False
    assert "other" in body["checks"]["database"]["detail"]


def test_not_ready_when_database_is_gone(client: TestClient[Litestar], settings: Settings) -> None:
    with sqlite3.connect(settings.paths.database) as db:
        db.execute("DROP TABLE alembic_version")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_probes_asked_together_share_one_check_and_a_later_one_checks_again(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    readiness = client.app.state.readiness
    round_trips = []
    real_round_trip = client.app.state.cache.round_trip

    def counted() -> None:
        round_trips.append(1)
        real_round_trip()

    monkeypatch.setattr(client.app.state.cache, "round_trip", counted)

    async def together() -> list[bool]:
        answers = await asyncio.gather(*(readiness.check() for _ in range(20)))
        return [all(part.ok for part in answer.values()) for answer in answers]

    with client.portal() as portal:
        assert portal.call(together) == [True] * 20
        assert len(round_trips) == 1
        portal.call(together)
    assert len(round_trips) == 2
