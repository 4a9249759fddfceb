"""The diskcache wrapper: values round-trip, expire, and are shared by every Cache on the directory."""

from __future__ import annotations

from pathlib import Path

from backend.cache import DiskCache
from tests.waiting import wait_until


def test_set_get_delete(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    cache.set("k", {"a": [1, 2]})
    assert cache.get("k") == {"a": [1, 2]}
    assert cache.delete("k") is True
    assert cache.get("k", "missing") == "missing"
    assert cache.delete("k") is False
    cache.close()


def test_values_expire(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    cache.set("short", 1, expire_s=0.05)
    cache.set("long", 2, expire_s=60)
    assert wait_until(lambda: cache.get("short") is None)
    assert cache.get("long") == 2
    cache.close()


def test_two_caches_on_one_directory_share_values(tmp_path: Path) -> None:
    writer, reader = DiskCache(tmp_path / "cache"), DiskCache(tmp_path / "cache")
    writer.set("shared", "yes")
    assert reader.get("shared") == "yes"
    writer.close()
    reader.close()


def test_round_trip_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    cache.round_trip()
    assert len(cache._store) == 0
    cache.close()


def test_hits_and_misses_are_counted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    cache.set("k", 1)
    assert cache.get("k") == 1
    assert cache.get("nope") is None
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses, stats.hit_rate) == (1, 1, 1, 0.5)
    assert stats.size_bytes > 0
    cache.close()


def test_a_bump_moves_the_generation_and_a_new_process_never_reuses_one(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    first = cache.generation("sites")
    cache.bump("sites")
    assert cache.generation("sites") != first
    assert cache.generation("other").split(".")[1] == "0"
    cache.close()
    again = DiskCache(tmp_path / "cache")
    assert again.generation("sites") != first  # an earlier run's entries are never reached
    again.close()


def test_purge_drops_one_tag_or_everything(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    cache.set("a1", 1, tag="a")
    cache.set("a2", 2, tag="a")
    cache.set("b1", 3, tag="b")
    before = cache.generation("a")
    assert cache.purge("a") == 2
    assert cache.generation("a") != before
    assert cache.get("a1") is None
    assert cache.get("b1") == 3
    assert cache.purge() == 1
    assert cache.stats().entries == 0
    cache.close()
