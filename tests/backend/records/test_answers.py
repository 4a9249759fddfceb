"""Cached record answers: keyed by every collection's generation, read through, invalidated by a commit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from backend.cache import DiskCache
from backend.records.answers import CachedAnswers
from backend.records.shape import RecordShape
from tests.backend.records.conftest import MemoryCatalog, collections

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def shapes() -> list[RecordShape]:
    catalog = MemoryCatalog(*collections())
    return [RecordShape(definition, catalog.table(definition)) for definition in collections()]


async def test_an_answer_is_computed_once_until_a_collection_it_read_changes(
    tmp_path: Path, shapes: list[RecordShape]
) -> None:
    cache = DiskCache(tmp_path / "cache")
    answers = CachedAnswers(cache)
    first, second = shapes[0], shapes[1]
    computed: list[int] = []

    async def compute() -> list[int]:
        computed.append(len(computed))
        return [len(computed)]

    async def read() -> list[int]:
        key = answers.key("list", [first, second], "same query")
        return await answers.read_through(key, first.definition.name, compute)

    assert await read() == [1]
    assert await read() == [1]  # from the cache
    answers.invalidate(frozenset({second.definition.name}))  # a write to a collection the answer also read
    assert await read() == [2]
    answers.invalidate(frozenset({"unrelated"}))
    assert await read() == [2]
    assert len(computed) == 2
    assert cache.stats().hits == 2  # answered from the copies held in memory, counted all the same
    assert cache.stats().misses == 2
    # Another process's view (a fresh CachedAnswers on the same cache) finds the stored answer.
    again = CachedAnswers(cache)
    assert await again.read_through(answers.key("list", [first, second], "same query"), "x", compute) == [2]
    assert len(computed) == 2
    cache.close()


async def test_keys_differ_by_kind_parts_and_schema_version(tmp_path: Path, shapes: list[RecordShape]) -> None:
    answers = CachedAnswers(DiskCache(tmp_path / "cache"))
    shape = shapes[0]
    keys = {
        answers.key("list", [shape], "a"),
        answers.key("list", [shape], "b"),
        answers.key("get", [shape], "a"),
        answers.key("list", [shape, shapes[1]], "a"),
    }
    assert len(keys) == 4
    newer = RecordShape(dataclasses.replace(shape.definition, schema_version=99), shape.table)
    assert answers.key("list", [newer], "a") not in keys


async def test_without_a_cache_every_read_computes(shapes: list[RecordShape]) -> None:
    answers = CachedAnswers(None)
    calls = []

    async def compute() -> int:
        calls.append(1)
        return len(calls)

    key = answers.key("list", shapes, "q")
    assert key is None
    assert [await answers.read_through(key, "x", compute) for _ in range(3)] == [1, 2, 3]
