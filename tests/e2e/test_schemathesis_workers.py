"""Schemathesis' own runner against a real `outpost serve` over HTTP, several workers at once, every check on."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.test_schemathesis import SEEDED, run_config, seed_records
from tests.backend_process import BackendProcess
from tests.e2e.admin_backend import UNLIMITED, admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, bearer

WORKERS = 4
MAX_EXAMPLES = 25  # per operation and phase: the run stays within a few minutes on a loaded two-core machine
RUN_TIMEOUT_S = 600
CLI = Path(__file__).with_name("schemathesis_cli.py")
PERSONS_ONLY = ("POST /api/v1/auth/logout", "POST /api/v1/auth/me/password", "POST /api/v1/api-keys")
NO_BACKUP = "backup-20000101T000000000000Z.db"  # a backup's name in form, naming none
SPARES = 3  # API keys and collections the fuzzer may delete in place of the ones the run stands on


def toml_value(value: object) -> str:
    """One value in TOML, tables inline (strings in JSON's escapes, which TOML's basic strings share)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    raise TypeError(f"no TOML for {value!r}")


def toml_document(config: dict[str, object]) -> str:
    """The config as a schemathesis.toml, checked to read back as the same config."""
    text = "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in config.items())
    assert tomllib.loads(text) == json.loads(json.dumps(config)), "the TOML does not read back as the config"
    return text


def spares_only(operation: str, parameter: str, dictionary: str) -> dict[str, object]:
    """An operation that takes the parameter from the dictionary, or makes it up, but never reuses a reply's value."""
    unlearned = {"extra-data-sources": {"responses": False}}
    return {
        "include-name": operation,
        "parameters": {parameter: {"dictionary": dictionary, "probability": 1.0}},
        # Stateful steps follow links from a reply (a list's items) into the operation: none lead to it here.
        "phases": {"examples": unlearned, "coverage": unlearned, "fuzzing": unlearned, "stateful": {"enabled": False}},
    }


def over_http(config: Mapping[str, Any], spare_keys: list[str], spare_collections: list[str]) -> dict[str, object]:
    """The in-process run's config for several workers over HTTP, kept from sawing off the branch it sits on."""
    dictionaries = {
        **config["dictionaries"],
        "spare_keys": {"values": spare_keys},
        "spare_collections": {"values": spare_collections},
        "no_backups": {"values": [NO_BACKUP]},
    }
    operations = [
        *config["operations"],
        # The fuzzer reuses ids it read in replies (the key list holds the run's own key): revoking the run's key
        # or dropping the seeded collection would leave every later request a 401 or a 404. These two delete
        # spares, or ids they make up, never ones read in replies.
        spares_only("DELETE /api/v1/api-keys/{key_id}", "path.key_id", "spare_keys"),
        spares_only("DELETE /api/v1/collections/{name}", "path.name", "spare_collections"),
        # A restore swaps the database under every worker (its requests meanwhile answered 503) and brings back
        # the backup's keys and rows: it names no backup here (404); tests/e2e/test_backups.py restores for real.
        spares_only("POST /api/v1/backups/{name}/restore", "path.name", "no_backups"),
        # What only a signed-in person may do, so an API key is rightly refused (403): only here is "403" no fault.
        *({"include-name": name, "warnings": {"fail-on": []}} for name in PERSONS_ONLY),
    ]
    return {
        **config,
        "dictionaries": dictionaries,
        "operations": operations,
        "workers": WORKERS,
        # An operation that only ever got 401/403 was not tested at all: the run fails rather than pass hollow.
        "warnings": {"fail-on": ["missing_auth"]},
    }


def most_requests_in_flight(data_dir: Path) -> int:
    """The most requests the server was answering at once, from its access log (each line: end time, duration)."""
    edges = []
    for log_file in (data_dir / "logs").glob("outpost.log*"):
        for line in log_file.read_text().splitlines():
            event = json.loads(line)
            if event.get("logger") == "outpost.access" and event.get("event") == "request":
                end = datetime.fromisoformat(event["timestamp"]).timestamp()
                edges += [(end - event["duration_ms"] / 1000, 1), (end, -1)]
    in_flight = most = 0
    for _, step in sorted(edges):  # at equal times an end (-1) sorts first: touching is not overlapping
        in_flight += step
        most = max(most, in_flight)
    return most


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    # Conformance is measured here, not the per-principal limiter (whose 429 is documented and allowed anyway).
    with admin_backend(tmp_path_factory.mktemp("schemathesis") / "data", UNLIMITED) as process:
        yield process


@pytest.fixture(scope="module")
def api_key(backend: BackendProcess) -> str:
    """An API key of the administrator with every permission (a fuzzed sign-out cannot end it, unlike a session)."""
    return str(create_api_key(backend, "schemathesis", ["*"])["key"])


def create_api_key(backend: BackendProcess, name: str, scopes: list[str]) -> dict[str, Any]:
    """The reply to creating an API key of the administrator: the key and its description."""
    created = httpx.post(
        f"{backend.url}/api/v1/api-keys", headers=bearer(backend.url, *ADMIN), json={"name": name, "scopes": scopes}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


@pytest.fixture(scope="module")
def config_file(backend: BackendProcess, api_key: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The in-process test's config (its documented refusals) for the API key, data seeded, spares made."""
    headers = {"X-API-Key": api_key}
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        record_ids = seed_records(client, api_key)
        spare_collections = [f"spare_{n}" for n in range(SPARES)]
        for name in spare_collections:
            created = client.post("/api/v1/collections", headers=headers, json={"name": name, "fields": []})
            assert created.status_code == 201, created.text
    spare_keys = [str(create_api_key(backend, f"spare {n}", ["records:read"])["api_key"]["id"]) for n in range(SPARES)]
    config = over_http(run_config(api_key, record_ids), spare_keys, spare_collections)
    path = tmp_path_factory.mktemp("schemathesis-config") / "schemathesis.toml"
    path.write_text(toml_document(config))
    return path


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_schemathesis_with_several_workers_finds_no_failure(
    backend: BackendProcess, api_key: str, config_file: Path
) -> None:
    command = [
        *(sys.executable, str(CLI), "--config-file", str(config_file), "run", f"{backend.url}/schema/openapi.json"),
        *("--workers", str(WORKERS), "--max-examples", str(MAX_EXAMPLES), "--checks", "all", "--no-color"),
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=config_file.parent, stdin=subprocess.DEVNULL
    )
    # Schemathesis' own report (each failure with a curl command to reproduce it) is the failure message.
    report = run.stdout + run.stderr
    print(report)
    assert run.returncode == 0, f"schemathesis exited {run.returncode}:\n{report}"
    assert backend.process.poll() is None, "the server died under the run:\n" + "\n".join(backend.stderr_lines[-40:])
    # The run stood on its key and its seeded data to the end, and its workers' requests did overlap.
    seeded = httpx.get(f"{backend.url}/api/v1/collections/{SEEDED}/records", headers={"X-API-Key": api_key})
    assert seeded.status_code == 200, seeded.text
    assert most_requests_in_flight(backend.data_dir) >= 2, "the workers' requests never overlapped"
