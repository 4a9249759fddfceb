"""Idempotency-Key on POST: a retry gets the first reply, the same key with another body is refused."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.observability.audit import Actor
from backend.records.idempotency import IdempotentRequest, fingerprint
from tests.backend.auth.helpers import Instance, assert_problem
from tests.backend.records.test_records_api import SITES


def test_a_retry_gets_the_first_reply_and_makes_no_second_record(records: Instance) -> None:
    headers = {**records.admin, "Idempotency-Key": "create-a1"}
    first = records.client.post(SITES, json={"code": "A1", "visits": 1}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = records.client.post(SITES, json={"visits": 1, "code": "A1"}, headers=headers)  # same body, other order
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (again.headers["location"], again.headers["etag"]) == (first.headers["location"], first.headers["etag"])
    assert again.headers["idempotent-replayed"] == "true"
    assert records.sql("SELECT count(*) FROM c_sites") == [(1,)]
    assert records.sql("SELECT count(*) FROM test_changes") == [(1,)]


def test_the_same_key_with_another_body_is_422_and_keys_are_per_principal(records: Instance) -> None:
    headers = {**records.admin, "Idempotency-Key": "k"}
    assert records.client.post(SITES, json={"code": "A1"}, headers=headers).status_code == 201
    other = records.client.post(SITES, json={"code": "B2"}, headers=headers)
    assert assert_problem(other, 422)["errors"][0]["field"] == "Idempotency-Key"
    key = records.create_api_key(records.admin, ["records:write:sites"])["key"]
    theirs = records.client.post(SITES, json={"code": "B2"}, headers={"X-API-Key": key, "Idempotency-Key": "k"})
    assert theirs.status_code == 201  # another principal's "k" is another key
    assert records.sql("SELECT count(*) FROM c_sites") == [(2,)]


def test_a_refused_write_is_not_stored_so_its_retry_runs_again(records: Instance) -> None:
    headers = {**records.admin, "Idempotency-Key": "k"}
    assert_problem(records.client.post(SITES, json={"code": "A1", "visits": -1}, headers=headers), 422)
    assert records.client.post(SITES, json={"code": "A1", "visits": -1}, headers=headers).status_code == 422
    assert records.sql("SELECT count(*) FROM idempotency_keys") == [(0,)]


def test_parallel_retries_of_one_key_make_one_record(records: Instance) -> None:
    service = records.client.app.state.records
    actor = Actor("user", records.admin_id, "admin")
    body = {"code": "A1"}
    request = IdempotentRequest(f"user:{records.admin_id}", "parallel", fingerprint("POST", SITES, body))

    async def retries() -> list[Any]:
        return await asyncio.gather(*(service.create(actor, "sites", body, idempotent=request) for _ in range(16)))

    replies = records.call(retries)
    assert len({reply.body["id"] for reply in replies}) == 1
    assert sum(not reply.replayed for reply in replies) == 1
    assert records.sql("SELECT count(*) FROM c_sites") == [(1,)]


def test_expired_keys_are_forgotten_and_purged(records: Instance) -> None:
    headers = {**records.admin, "Idempotency-Key": "old"}
    assert records.client.post(SITES, json={"code": "A1"}, headers=headers).status_code == 201
    records.sql("UPDATE idempotency_keys SET created_at = created_at - 2 * 24 * 3600")
    fresh = records.client.post(SITES, json={"code": "B2"}, headers=headers)  # the old use no longer counts
    assert fresh.status_code == 201
    assert records.sql("SELECT count(*) FROM idempotency_keys") == [(1,)]
