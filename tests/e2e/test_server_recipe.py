"""The container recipe (resources/server/compose.yaml and its Dockerfile), run here as the same commands against
this machine's PostgreSQL and Redis: Docker is not what is under test, the commands and settings the recipe gives
the program are."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.backend_process import SOURCE_PROGRAM, BackendProcess, run_outpost
from tests.server_deployment import server_deployment_env
from tests.waiting import wait_until

RECIPE = Path(__file__).resolve().parents[2] / "resources" / "server"
ADMIN = {"email": "admin@outpost.example", "password": "keep this one in a vault, not a file"}
# What the recipe points at its own containers, pointed here at this machine's services by the deployment.
SERVICE_SETTINGS = {"OUTPOST_DATABASE_URL", "OUTPOST_REDIS_URL", "OUTPOST_SECRET_FILE"}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((RECIPE / "compose.yaml").read_text()))


def arguments(service: str) -> list[str]:
    """A service's command without the leading `outpost`, its port made 0 (any free one) here."""
    command = list(compose()["services"][service]["command"])
    assert command[0] == "outpost", command
    if "--port" in command:
        command[command.index("--port") + 1] = "0"
    return command[1:]


def healthcheck() -> list[str]:
    """The Dockerfile's HEALTHCHECK command (its exec form)."""
    found = re.search(r"^\s*CMD (\[.*\])$", (RECIPE / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1], re.M)
    assert found, "the Dockerfile has no HEALTHCHECK CMD in exec form"
    return list(yaml.safe_load(found.group(1)))


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[BackendProcess], dict[str, str]]]:
    root = tmp_path_factory.mktemp("recipe")
    environment = dict(compose()["services"]["app1"]["environment"])
    assert set(environment) >= SERVICE_SETTINGS, "the recipe gives the program its database, Redis and secret"
    kept = {name: str(value) for name, value in environment.items() if name not in SERVICE_SETTINGS}
    with server_deployment_env(root, ADMIN, arguments("admin"), **kept) as env:
        processes = []
        try:
            for service in ("app1", "app2", "worker"):
                command, *rest = arguments(service)
                processes.append(
                    BackendProcess(root / service, *rest, program=SOURCE_PROGRAM, env=env, command=command)
                )
            for process in processes:
                process.wait_ready()
            yield processes, env
        finally:
            for process in processes:
                process.kill()


def test_the_admin_service_takes_its_password_from_standard_input() -> None:
    args = arguments("admin")
    assert args[:2] == ["user", "create"]
    assert "--password-stdin" in args, "the password comes by standard input, never on a command line"


def test_the_recipes_instances_and_worker_serve_and_pass_the_images_healthcheck(
    recipe: tuple[list[BackendProcess], dict[str, str]],
) -> None:
    (app1, app2, _worker), _env = recipe
    check = healthcheck()
    for app in (app1, app2):
        probe = [sys.executable, *check[1:]]
        probe[-1] = probe[-1].replace("http://127.0.0.1:8765", app.url.replace("0.0.0.0", "127.0.0.1"))
        assert subprocess.run(probe, timeout=30).returncode == 0, f"the healthcheck fails against {app.url}"
    url1, url2 = (app.url.replace("0.0.0.0", "127.0.0.1") for app in (app1, app2))
    tokens = httpx.post(f"{url1}/api/v1/auth/login", json=ADMIN, headers={"Host": "localhost"})
    assert tokens.status_code == 200, tokens.text
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}", "Host": "localhost"}
    job = httpx.post(f"{url2}/api/v1/jobs", json={"kind": "wait", "params": {"seconds": 0.1}}, headers=headers).json()
    assert wait_until(
        lambda: httpx.get(f"{url1}/api/v1/jobs/{job['id']}", headers=headers).json()["state"] == "succeeded",
        timeout_s=30,
    ), "the recipe's worker did not run a job asked of its instances"


def test_no_secret_is_written_into_the_recipe() -> None:
    text = (RECIPE / "compose.yaml").read_text() + (RECIPE / "Dockerfile").read_text()
    assert "${POSTGRES_PASSWORD:?" in text, "the database password comes from the environment"
    assert not re.search(r"PASSWORD:\s+[^$\s]", text), "a password is written into the recipe"
    shown = run_outpost("--help").stdout
    assert "serve" in shown
    assert "worker" in shown
