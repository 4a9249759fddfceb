"""/api/v1/settings: shows values with their source; saves validated changes for the next start."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from backend.db.migrate import head_revision
from backend.settings import MAX_LIST_ITEMS, Settings
from backend.system.saved_settings import read_saved_settings


def by_name(items: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(item["name"]): item for item in items}


def test_list_shows_values_and_sources_without_secrets(client: TestClient[Litestar]) -> None:
    items = by_name(client.get("/api/v1/settings").json()["items"])
    assert items["host"]["value"] == "127.0.0.1"
    assert items["host"]["source"] == "default"
    assert items["data_dir"]["source"] == "flag"
    assert "secret_key" not in items


def test_save_marks_restart_and_persists(client: TestClient[Litestar], settings: Settings) -> None:
    response = client.patch("/api/v1/settings", json={"sqlite_synchronous": "NORMAL", "cors_origins": ["https://a.b"]})
    assert response.status_code == 200
    items = by_name(response.json()["items"])
    assert items["sqlite_synchronous"]["value"] == "FULL"  # running value unchanged until restart
    assert items["sqlite_synchronous"]["saved"] == "NORMAL"
    assert items["sqlite_synchronous"]["restart_required"] is True
    assert read_saved_settings(settings).values == {
        "sqlite_synchronous": "NORMAL",
        "cors_origins": ["https://a.b"],
    }


def test_null_forgets_a_saved_value(client: TestClient[Litestar], settings: Settings) -> None:
    client.patch("/api/v1/settings", json={"log_level": "DEBUG"})
    response = client.patch("/api/v1/settings", json={"log_level": None})
    assert by_name(response.json()["items"])["log_level"]["restart_required"] is False
    assert read_saved_settings(settings).values == {}


def test_one_bad_value_saves_nothing(client: TestClient[Litestar], settings: Settings) -> None:
    response = client.patch("/api/v1/settings", json={"log_level": "DEBUG", "allowed_hosts": ["bad/host"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "allowed_hosts"
    assert read_saved_settings(settings).values == {}


def test_a_list_longer_than_its_bound_is_refused_by_name(client: TestClient[Litestar], settings: Settings) -> None:
    hosts = [f"h{n}.example" for n in range(MAX_LIST_ITEMS + 1)]
    response = client.patch("/api/v1/settings", json={"allowed_hosts": hosts})
    assert response.status_code in (400, 422), response.text
    assert "allowed_hosts" in response.text
    assert read_saved_settings(settings).values == {}
    assert client.patch("/api/v1/settings", json={"allowed_hosts": hosts[:MAX_LIST_ITEMS]}).status_code == 200


def test_system_facts(client: TestClient[Litestar], settings: Settings) -> None:
    body = client.get("/api/v1/system").json()
    assert body["data_dir"] == str(settings.data_dir)
    assert body["database_bytes"] > 0
    assert body["schema_revision"] == head_revision()
    assert body["mode"] == "embedded"
