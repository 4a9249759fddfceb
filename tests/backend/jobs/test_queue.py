"""The job queue: tasks go through queue.db to an in-process consumer and their results come back."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from backend.jobs.queue import JobQueue, QueueError


def test_round_trip_through_a_consumer(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "queue.db")
    queue.start_consumer()
    try:
        queue.round_trip()
        assert queue.enqueue("echo", "hello").get(blocking=True, timeout=10) == "hello"
    finally:
        queue.close()


def test_without_a_consumer_tasks_wait_and_the_round_trip_fails(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "queue.db")
    queue.enqueue("echo", "a")
    assert queue.pending() == 1
    with pytest.raises(QueueError, match=r"no result within 0\.2 s"):
        queue.round_trip(timeout_s=0.2)
    queue.close()


def test_waiting_tasks_run_once_a_consumer_starts(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "queue.db")
    result = queue.enqueue("echo", "later")
    queue.start_consumer()
    try:
        assert result.get(blocking=True, timeout=10) == "later"
        assert queue.pending() == 0
    finally:
        queue.close()


def test_consumer_starts_off_the_main_thread(tmp_path: Path) -> None:
    # Huey's own Consumer.start() installs signal handlers, which fails off the main thread.
    queue = JobQueue(tmp_path / "queue.db")
    errors: list[BaseException] = []

    def start() -> None:
        try:
            queue.start_consumer()
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join(timeout=10)
    try:
        assert errors == []
        queue.round_trip()
    finally:
        queue.close()


def test_queue_file_is_owner_only(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "queue.db")
    assert stat.S_IMODE((tmp_path / "queue.db").stat().st_mode) == 0o600
    queue.close()
