"""The hybrid logical clock: text order is clock order, never backwards, past what it observes, skew refused."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.sync.clock import (
    HLC_TEXT_LENGTH,
    MAX_COUNTER,
    MAX_WALL_MS,
    ClockSkewError,
    Hlc,
    HybridClock,
    new_node_id,
)

NODE = "00000000000000aa"
OTHER = "00000000000000bb"
HOUR_MS = 3_600_000

readings = st.builds(
    Hlc,
    st.integers(0, MAX_WALL_MS),
    st.integers(0, MAX_COUNTER),
    st.text("0123456789abcdef", min_size=16, max_size=16),
)


class WallClock:
    """A wall clock the test sets by hand."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@given(readings, readings)
def test_text_order_is_clock_order_and_round_trips(a: Hlc, b: Hlc) -> None:
    assert len(str(a)) == HLC_TEXT_LENGTH
    assert Hlc.parse(str(a)) == a
    assert (str(a) < str(b)) == ((a.wall_ms, a.counter, a.node_id) < (b.wall_ms, b.counter, b.node_id))


def test_text_form_is_documented_shape() -> None:
    assert str(Hlc(1_767_225_600_000, 3, NODE)) == "019b76daa800-0003-00000000000000aa"  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    "text",
    [
        "",
        "019b76daa800-0003-00000000000000a",
        "019B76DAA800-0003-00000000000000aa",
        "019b76daa800_0003_00000000000000aa",
    ],
)
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a hybrid logical clock reading"):
        Hlc.parse(text)


def test_node_ids_are_sixteen_hex_digits_and_differ() -> None:
    ids = {new_node_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(node_id) == 16 and int(node_id, 16) >= 0 for node_id in ids)
    with pytest.raises(ValueError, match="node id"):
        Hlc(0, 0, "not-a-node-id")


def test_tick_follows_the_wall_clock_and_counts_within_a_millisecond() -> None:
    wall = WallClock(1_000)
    clock = HybridClock(NODE, wall=wall)
    assert clock.tick() == Hlc(1_000, 0, NODE)
    assert clock.tick() == Hlc(1_000, 1, NODE)
    wall.now_ms = 1_005
    assert clock.tick() == Hlc(1_005, 0, NODE)


def test_tick_never_goes_backwards_when_the_wall_clock_is_set_back() -> None:
    wall = WallClock(10_000_000)
    clock = HybridClock(NODE, wall=wall)
    before = clock.tick()
    wall.now_ms -= HOUR_MS
    after = [clock.tick() for _ in range(3)]
    assert after == [Hlc(10_000_000, n, NODE) for n in (1, 2, 3)]
    assert before < after[0]
    wall.now_ms = 10_000_001
    assert clock.tick() == Hlc(10_000_001, 0, NODE)


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    clock = HybridClock(NODE, seed=Hlc(500, MAX_COUNTER, NODE), wall=WallClock(100))
    assert clock.tick() == Hlc(501, 0, NODE)
    assert clock.tick() == Hlc(501, 1, NODE)


def test_seed_from_another_node_id_bounds_the_clock_under_our_own_id() -> None:
    clock = HybridClock(NODE, seed=Hlc(9_000, 7, OTHER), wall=WallClock(1_000))
    assert clock.current() == Hlc(9_000, 7, NODE)
    assert clock.tick() == Hlc(9_000, 8, NODE)


def test_observe_moves_past_a_remote_reading_ahead_of_us() -> None:
    wall = WallClock(1_000)
    clock = HybridClock(NODE, wall=wall)
    clock.tick()
    remote = Hlc(1_000 + 60_000, 4, OTHER)
    observed = clock.observe(remote)
    assert observed == Hlc(61_000, 5, NODE)
    assert clock.observed_skew_ms == 60_000
    # A local write after seeing the remote change orders after it, though our wall clock is a minute behind.
    assert clock.tick() > remote


def test_observe_of_an_older_reading_still_advances() -> None:
    wall = WallClock(5_000)
    clock = HybridClock(NODE, wall=wall)
    clock.tick()
    assert clock.observe(Hlc(4_000, 9, OTHER)) == Hlc(5_000, 1, NODE)
    wall.now_ms = 6_000
    assert clock.observe(Hlc(4_000, 9, OTHER)) == Hlc(6_000, 0, NODE)
    assert clock.observe(Hlc(6_000, 9, OTHER)) == Hlc(6_000, 10, NODE)


def test_a_reading_more_than_an_hour_ahead_is_refused_and_leaves_the_clock_alone() -> None:
    wall = WallClock(10_000_000)
    clock = HybridClock(NODE, wall=wall)
    before = clock.tick()
    remote = Hlc(10_000_000 + HOUR_MS + 1, 0, OTHER)
    with pytest.raises(ClockSkewError) as refused:
        clock.observe(remote)
    assert refused.value.skew_ms == HOUR_MS + 1
    assert refused.value.remote == remote
    assert clock.current() == before
    assert clock.observe(Hlc(10_000_000 + HOUR_MS, 0, OTHER)).wall_ms == 10_000_000 + HOUR_MS


@given(st.lists(st.tuples(st.booleans(), st.integers(-HOUR_MS, HOUR_MS), st.integers(0, MAX_COUNTER)), max_size=60))
def test_every_reading_is_later_than_the_one_before(steps: list[tuple[bool, int, int]]) -> None:
    wall = WallClock(HOUR_MS * 10)
    clock = HybridClock(NODE, wall=wall)
    previous = clock.current()
    for is_remote, offset, counter in steps:
        wall.now_ms = max(0, wall.now_ms + offset // 10)
        if is_remote:
            remote = Hlc(max(0, wall.now_ms + offset), counter, OTHER)
            reading = clock.observe(remote)
            assert reading > remote
        else:
            reading = clock.tick()
        assert reading > previous
        previous = reading


def test_ticks_from_many_threads_are_all_distinct() -> None:
    clock = HybridClock(NODE, wall=WallClock(1_000))  # a frozen wall clock: every tick races on the counter
    results: list[list[Hlc]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def work(mine: list[Hlc]) -> None:
        start.wait()
        mine.extend(clock.tick() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(mine,)) for mine in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [reading for mine in results for reading in mine]
    assert len(set(every)) == len(every) == 16_000
    assert all(mine == sorted(mine) for mine in results)
    assert max(every) == clock.current()
