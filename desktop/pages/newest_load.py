"""Newest-wins loading: a page's loads overlap (shown, F5, after a write); only the newest one's replies count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class NewestLoad:
    """Numbers a page's loads; a reply is handed on only while no newer load has started since it was asked for.

    A load may take several requests in turn (who am I, then the list); each is guarded alike, so an older
    load's late reply neither overwrites a newer one's rows nor starts requests of its own.
    """

    def __init__(self) -> None:
        self.generation = 0

    def begin(self) -> None:
        """A new load starts: every reply to the ones before is dropped from now on."""
        self.generation += 1

    def guard(self, callback: Callable[..., object]) -> Callable[..., None]:
        """callback, run only if no load has begun since this call."""
        generation = self.generation

        def current(*args: Any) -> None:
            if generation == self.generation:
                callback(*args)

        return current
