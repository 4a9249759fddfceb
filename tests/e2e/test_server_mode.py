"""Two `outpost serve` instances over one PostgreSQL and one Redis, as behind a load balancer: what one is
told, the other answers at once (data, cache included) or within a second (access taken away)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backend.auth.throttle import ACCOUNT_FREE
from tests.backend_process import BackendProcess, run_outpost
from tests.e2e.test_sign_in_throttle import verifications_allowed
from tests.server_deployment import server_deployment_env
from tests.waiting import wait_until

ADMIN = {"email": "server-admin@example.org", "password": "one deployment, many instances"}


@dataclass
class Deployment:
    """Two instances of one deployment, and the environment its CLI commands need."""

    first: BackendProcess
    second: BackendProcess
    env: dict[str, str]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("server-mode")
    with server_deployment_env(root, ADMIN) as env:
        instances = [BackendProcess(root / name, env=env) for name in ("first", "second")]
        try:
            for instance in instances:
                instance.wait_ready()
            yield Deployment(instances[0], instances[1], env)
        finally:
            for instance in instances:
                instance.kill()


def signed_in(instance: BackendProcess) -> dict[str, str]:
    tokens = httpx.post(f"{instance.url}/api/v1/auth/login", json=ADMIN)
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def test_setup_over_http_is_off_and_tokens_of_one_instance_work_on_the_other(deployment: Deployment) -> None:
    refused = httpx.post(f"{deployment.first.url}/api/v1/setup", json={"email": "x@example.org", "password": "p" * 20})
    assert refused.status_code in (403, 409)
    headers = signed_in(deployment.first)
    me = httpx.get(f"{deployment.second.url}/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["roles"] == ["admin"]
    ready = httpx.get(f"{deployment.second.url}/ready").json()
    assert ready["status"] == "ready"
    assert ready["checks"]["database"]["detail"].startswith("PostgreSQL 1")


def test_a_write_through_one_is_read_through_the_other_at_once_cache_included(deployment: Deployment) -> None:
    one, other = deployment.first.url, deployment.second.url
    headers = signed_in(deployment.first)
    fields = [{"name": "title", "type": "text"}]
    assert (
        httpx.post(f"{one}/api/v1/collections", json={"name": "shared", "fields": fields}, headers=headers).status_code
        == 201
    )
    listing = f"{other}/api/v1/collections/shared/records"
    assert httpx.get(listing, headers=headers).json()["items"] == []  # now cached on the other instance
    for n in range(3):
        made = httpx.post(f"{one}/api/v1/collections/shared/records", json={"title": f"t{n}"}, headers=headers)
        assert made.status_code == 201
        titles = [item["title"] for item in httpx.get(listing, headers=headers).json()["items"]]
        assert titles == [f"t{i}" for i in range(n + 1)], "the other instance answered from a stale cache"
    # A schema change on one: the other's next write uses the new field.
    fields.append({"name": "n", "type": "integer"})
    current = httpx.get(f"{one}/api/v1/collections/shared", headers=headers).json()
    kept = [{**field, "id": field["id"]} for field in current["fields"]] + [fields[-1]]
    changed = httpx.patch(f"{one}/api/v1/collections/shared", json={"fields": kept}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert wait_until(
        lambda: httpx.post(listing, json={"title": "x", "n": 5}, headers=headers).status_code == 201, timeout_s=1.5
    ), "the other instance still refuses the new field after a second"


def test_a_key_revoked_on_one_is_refused_by_the_other_within_a_second(deployment: Deployment) -> None:
    headers = signed_in(deployment.first)
    made = httpx.post(
        f"{deployment.first.url}/api/v1/api-keys",
        json={"name": "field", "scopes": ["collections:read"]},
        headers=headers,
    ).json()
    key = {"X-API-Key": made["key"]}
    assert httpx.get(f"{deployment.second.url}/api/v1/collections", headers=key).status_code == 200  # cached there
    revoked = httpx.delete(f"{deployment.first.url}/api/v1/api-keys/{made['api_key']['id']}", headers=headers)
    assert revoked.status_code == 204, revoked.text
    assert wait_until(
        lambda: httpx.get(f"{deployment.second.url}/api/v1/collections", headers=key).status_code == 401, timeout_s=1.0
    ), "the other instance still accepts the revoked key after a second"


def test_parallel_audited_writes_through_both_keep_one_chain(deployment: Deployment) -> None:
    instances = [deployment.first, deployment.second]
    headers = [signed_in(instance) for instance in instances]

    def make_key(n: int) -> int:
        url, auth = instances[n % 2].url, headers[n % 2]
        body = {"name": f"parallel {n}", "scopes": ["collections:read"]}
        return httpx.post(f"{url}/api/v1/api-keys", json=body, headers=auth, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(make_key, range(32))) == {201}
    verified = run_outpost(
        "audit", "verify", "--data-dir", str(Path(deployment.first.data_dir).parent / "cli"), env=deployment.env
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_sign_ins_are_throttled_across_both_instances(deployment: Deployment) -> None:
    urls = [deployment.first.url, deployment.second.url]
    guessed = {"email": "guessed@example.org", "password": "the owner's own long passphrase"}
    made = httpx.post(
        f"{urls[0]}/api/v1/users", json={**guessed, "roles": ["viewer"]}, headers=signed_in(deployment.first)
    )
    assert made.status_code == 201, made.text
    wrong = {"email": guessed["email"], "password": "a wrong guess at the password"}

    def guess(n: int) -> int:
        return httpx.post(f"{urls[n % 2]}/api/v1/auth/login", json=wrong, timeout=60).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answered = Counter(pool.map(guess, range(24)))
    elapsed = time.monotonic() - started
    assert set(answered) <= {401, 429}, answered
    # One account's free attempts are counted once for the deployment, not once per instance.
    assert ACCOUNT_FREE <= answered[401] <= verifications_allowed(elapsed), (answered, elapsed)
    held = httpx.post(f"{urls[1]}/api/v1/auth/login", json=guessed)
    assert held.status_code == 429, "the owner without a device token waits like the guesser, on either instance"


def test_the_rate_limit_counts_a_client_once_across_both_instances(deployment: Deployment) -> None:
    headers = signed_in(deployment.second)
    replies = [
        httpx.get(f"{url}/api/v1/auth/me", headers=headers)
        for url in (deployment.first.url, deployment.second.url, deployment.first.url)
    ]
    assert all(reply.status_code == 200 for reply in replies)
    remaining = [int(reply.headers["ratelimit-remaining"]) for reply in replies]
    assert remaining[0] - remaining[1] >= 1, remaining
    assert remaining[1] - remaining[2] >= 1, "each instance counted into the same window"


def test_a_user_disabled_with_the_cli_is_refused_by_the_instances_within_a_second(deployment: Deployment) -> None:
    person = {"email": "leaver@example.org", "password": "seven long words out in the rain"}
    made = httpx.post(
        f"{deployment.first.url}/api/v1/users",
        json={**person, "roles": ["viewer"]},
        headers=signed_in(deployment.first),
    )
    assert made.status_code == 201, made.text
    tokens = httpx.post(f"{deployment.second.url}/api/v1/auth/login", json=person).json()
    theirs = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{deployment.second.url}/api/v1/auth/me", headers=theirs).status_code == 200  # cached there
    cli_dir = str(Path(deployment.first.data_dir).parent / "cli")
    disabled = run_outpost("user", "disable", person["email"], "--data-dir", cli_dir, env=deployment.env)
    assert disabled.returncode == 0, disabled.stderr
    assert wait_until(
        lambda: httpx.get(f"{deployment.second.url}/api/v1/auth/me", headers=theirs).status_code == 401, timeout_s=1.0
    ), "an instance still accepts a user the CLI disabled, after a second"
