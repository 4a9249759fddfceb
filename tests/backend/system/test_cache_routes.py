"""/api/v1/cache: statistics for cache:read, purge for cache:write (audited), refused to others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.auth.helpers import Instance, assert_problem, running_instance


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with running_instance(tmp_path / "data") as running:
        yield running


def test_the_report_counts_what_the_cache_answered(instance: Instance) -> None:
    cache = instance.client.app.state.cache
    cache.set("k", "v", tag="sites")
    cache.get("k")
    cache.get("missing")
    report = instance.client.get("/api/v1/cache", headers=instance.admin)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["entries"] >= 1
    assert body["hits"] >= 1
    assert body["misses"] >= 1
    assert 0 < body["hit_rate"] < 1
    assert body["size_bytes"] > 0


def test_a_purge_of_one_collection_leaves_the_others_and_is_audited(instance: Instance) -> None:
    cache = instance.client.app.state.cache
    cache.set("s1", 1, tag="sites")
    cache.set("i1", 2, tag="inspections")
    purged = instance.client.delete("/api/v1/cache", params={"collection": "sites"}, headers=instance.admin)
    assert purged.status_code == 204, purged.text
    assert cache.get("s1") is None
    assert cache.get("i1") == 2
    [row] = instance.audit_rows("cache.purge")
    assert (row["target"], row["details"]) == ("sites", {"entries": 1})
    everything = instance.client.delete("/api/v1/cache", headers=instance.admin)
    assert everything.status_code == 204
    assert cache.get("i1") is None


def test_a_viewer_may_not_see_or_purge_the_cache(instance: Instance) -> None:
    viewer = instance.sign_in("viewer@example.org", ["viewer"])
    assert_problem(instance.client.get("/api/v1/cache", headers=viewer.headers), 403)
    assert_problem(instance.client.delete("/api/v1/cache", headers=viewer.headers), 403)


def test_a_collection_name_that_cannot_exist_is_a_422(instance: Instance) -> None:
    bad = instance.client.delete("/api/v1/cache", params={"collection": "Not A Name"}, headers=instance.admin)
    assert_problem(bad, 422)
