"""The hybrid logical clock: (wall ms, counter, node id), written as fixed-width text that sorts in clock order.

Text form: ``WWWWWWWWWWWW-CCCC-NNNNNNNNNNNNNNNN``, 34 characters, lowercase hex:
12 digits of wall milliseconds since the Unix epoch (room until the year 10889), 4 digits of counter,
16 digits of node id. Every part is fixed width and the separators sit at fixed places, so comparing
two texts byte by byte (SQLite's BINARY collation, PostgreSQL's "C" collation) orders them as
(wall ms, counter, node id). ``_hlc`` columns, ETags and the change log all hold this text.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WALL_DIGITS = 12
COUNTER_DIGITS = 4
NODE_ID_DIGITS = 16
MAX_WALL_MS = 16**WALL_DIGITS - 1
MAX_COUNTER = 16**COUNTER_DIGITS - 1
HLC_TEXT_LENGTH = WALL_DIGITS + COUNTER_DIGITS + NODE_ID_DIGITS + 2
DEFAULT_MAX_SKEW_MS = 3_600_000  # a remote change more than an hour ahead of our wall clock is refused

NODE_ID_PATTERN = re.compile(rf"[0-9a-f]{{{NODE_ID_DIGITS}}}")
HLC_PATTERN = re.compile(rf"([0-9a-f]{{{WALL_DIGITS}}})-([0-9a-f]{{{COUNTER_DIGITS}}})-([0-9a-f]{{{NODE_ID_DIGITS}}})")


def new_node_id() -> str:
    """A fresh random node id: 16 lowercase hex digits."""
    return secrets.token_hex(NODE_ID_DIGITS // 2)


def system_wall_ms() -> int:
    """The system's wall clock in Unix milliseconds."""
    return time.time_ns() // 1_000_000


class ClockSkewError(ValueError):
    """A remote clock reading runs further ahead of our wall clock than the bound allows."""

    def __init__(self, remote: Hlc, wall_ms: int, max_skew_ms: int) -> None:
        self.remote = remote
        self.wall_ms = wall_ms
        self.skew_ms = remote.wall_ms - wall_ms
        self.max_skew_ms = max_skew_ms
        super().__init__(
            f"node {remote.node_id}'s clock runs {self.skew_ms} ms ahead of ours (at most {max_skew_ms} ms is accepted)"
        )


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    """One reading of a hybrid logical clock; compares like its text form."""

    wall_ms: int
    counter: int
    node_id: str

    def __post_init__(self) -> None:
        if not 0 <= self.wall_ms <= MAX_WALL_MS:
            raise ValueError(f"wall_ms out of range: {self.wall_ms}")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise ValueError(f"counter out of range: {self.counter}")
        if not NODE_ID_PATTERN.fullmatch(self.node_id):
            raise ValueError(f"a node id is {NODE_ID_DIGITS} lowercase hex digits, not {self.node_id!r}")

    def __str__(self) -> str:
        return f"{self.wall_ms:0{WALL_DIGITS}x}-{self.counter:0{COUNTER_DIGITS}x}-{self.node_id}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        """The reading a text form stands for; ValueError if it is not one."""
        match = HLC_PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(f"not a hybrid logical clock reading: {text!r}")
        return cls(int(match[1], 16), int(match[2], 16), match[3])


class HybridClock:
    """A node's clock: never goes backwards, orders after everything it has seen, safe to tick from any thread."""

    def __init__(
        self,
        node_id: str,
        *,
        seed: Hlc | None = None,
        wall: Callable[[], int] = system_wall_ms,
        max_skew_ms: int = DEFAULT_MAX_SKEW_MS,
    ) -> None:
        self.node_id = node_id
        self._wall = wall
        self.max_skew_ms = max_skew_ms
        # The seed only lends its (wall, counter): a reading persisted under another node id still bounds ours.
        self._last = Hlc(seed.wall_ms, seed.counter, node_id) if seed else Hlc(0, 0, node_id)
        self._lock = threading.Lock()
        self.observed_skew_ms = 0  # how far the last observed remote reading ran ahead of our wall clock

    def current(self) -> Hlc:
        """The last reading issued or observed (the seed before any)."""
        return self._last

    def _after(self, wall_ms: int, counter: int) -> Hlc:
        # A counter that overflows borrows the next millisecond: later than everything, still fixed width.
        if counter > MAX_COUNTER:
            return Hlc(wall_ms + 1, 0, self.node_id)
        return Hlc(wall_ms, counter, self.node_id)

    def tick(self) -> Hlc:
        """A new reading for a local write, later than every reading before it."""
        with self._lock:
            now = self._wall()
            last = self._last
            if now > last.wall_ms:
                self._last = Hlc(now, 0, self.node_id)
            else:
                self._last = self._after(last.wall_ms, last.counter + 1)
            return self._last

    def observe(self, remote: Hlc) -> Hlc:
        """Move past a pulled change's reading; ClockSkewError if it runs too far ahead of our wall clock."""
        with self._lock:
            now = self._wall()
            if remote.wall_ms - now > self.max_skew_ms:
                raise ClockSkewError(remote, now, self.max_skew_ms)
            self.observed_skew_ms = remote.wall_ms - now
            last = self._last
            wall_ms = max(now, last.wall_ms, remote.wall_ms)
            if wall_ms == last.wall_ms == remote.wall_ms:
                counter = max(last.counter, remote.counter) + 1
            elif wall_ms == last.wall_ms:
                counter = last.counter + 1
            elif wall_ms == remote.wall_ms:
                counter = remote.counter + 1
            else:
                counter = 0
            self._last = self._after(wall_ms, counter)
            return self._last
