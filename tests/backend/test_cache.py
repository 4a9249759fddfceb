"""The diskcache wrapper: values round-trip, expire, and are shared by every Cache on the directory."""

from __future__ import annotations

from pathlib import Path

from backend.cache import Cache
from tests.waiting import wait_until


def test_set_get_delete(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.set("k", {"a": [1, 2]})
    assert cache.get("k") == {"a": [1, 2]}
    assert cache.delete("k") is True
    assert cache.get("k", "missing") == "missing"
    assert cache.delete("k") is False
    cache.close()


def test_values_expire(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.set("short", 1, expire_s=0.05)
    cache.set("long", 2, expire_s=60)
    assert wait_until(lambda: cache.get("short") is None)
    assert cache.get("long") == 2
    cache.close()


def test_two_caches_on_one_directory_share_values(tmp_path: Path) -> None:
    writer, reader = Cache(tmp_path / "cache"), Cache(tmp_path / "cache")
    writer.set("shared", "yes")
    assert reader.get("shared") == "yes"
    writer.close()
    reader.close()


def test_round_trip_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.round_trip()
    assert len(cache._store) == 0
    cache.close()
