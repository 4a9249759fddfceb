"""Schemathesis over the app in server mode (PostgreSQL and Redis), every operation, every check, as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig

from backend.app import create_app
from backend.settings import load_settings
from backend.startup import prepare_data_dir
from tests.backend.test_schemathesis import run_config, seed_records
from tests.conftest import sign_in_first_admin
from tests.postgres import fresh_postgres_database, require_redis


@pytest.fixture(scope="module")
def server_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    redis_url = require_redis()
    data_dir: Path = tmp_path_factory.mktemp("schemathesis-server") / "data"
    with fresh_postgres_database() as database_url:
        flags = {
            "data_dir": data_dir,
            "allowed_hosts": "testserver",
            "rate_limit_per_minute": 10**6,
            "database_url": database_url,
            "redis_url": redis_url,
        }
        app = create_app(prepare_data_dir(load_settings(flags, {})).settings)
        with TestClient(app, base_url="http://testserver") as client:
            created = client.post(
                "/api/v1/api-keys", headers=sign_in_first_admin(client), json={"name": "schemathesis", "scopes": ["*"]}
            )
            assert created.status_code == 201, created.text
            key = str(created.json()["key"])
            record_ids = seed_records(client, key)
        config = SchemathesisConfig.from_dict(run_config(key, record_ids))
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("server_schema")


@pytest.mark.timeout(1200)
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_server_mode_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
