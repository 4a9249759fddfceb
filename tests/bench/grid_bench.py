"""The console's grid on a million synthetic rows: first page, last page, memory, longest GUI-thread stall."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

ROWS = 1_000_000
FRAME_MS = 16  # one scroll step per frame, as a held arrow key or a wheel spins
TICK_MS = 1  # the probe timer: a gap between its ticks longer than this is time the GUI thread was busy


def rss_mb() -> float:
    """This process's resident memory, from /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str]) -> int:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench grid")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--frames", type=int, default=1500, help="scroll steps while the stall probe runs")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QTableView

    from desktop.app import application
    from desktop.models.json_decoder import OffThreadJson
    from desktop.models.lazy_table_model import LazyColumn, LazyTableModel
    from tests.desktop.models.synthetic_source import SyntheticSource

    application()
    view = QTableView()
    view.resize(1100, 700)
    view.show()

    def run_until(condition: Callable[[], bool], timeout_s: float = 60) -> None:
        loop = QEventLoop()
        ticker = QTimer(interval=1)
        ticker.timeout.connect(lambda: condition() and loop.quit())
        ticker.start()
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        if not condition():
            loop.exec()
        ticker.stop()
        if not condition():
            raise RuntimeError("timed out")

    def visible_filled() -> bool:
        top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
        if top < 0:
            return False
        bottom = bottom if bottom >= 0 else model.rowCount() - 1
        return all(model.row(r) is not None for r in range(top, bottom + 1))

    before = rss_mb()
    source = SyntheticSource(args.rows, decoder=OffThreadJson())  # pages go through JSON bytes, as the API's do
    columns = [LazyColumn(key, key) for key in ("id", "n", "k", "name", "_rev")]
    model = LazyTableModel()
    view.setModel(model)
    started = time.perf_counter()
    model.set_source(source, columns)
    run_until(lambda: model.total is not None and visible_filled())
    first_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    view.scrollToBottom()
    run_until(visible_filled)
    last_ms = (time.perf_counter() - started) * 1000
    last_requests = len(model.requests)

    # Scroll while a 1 ms probe timer measures how long the GUI thread went without turning the event loop.
    gaps: list[float] = []
    busy: list[float] = []  # the GUI thread's own CPU time per gap: what the wall gap is, minus other processes' turns
    cpu = {"last": time.thread_time()}
    clock = QElapsedTimer()
    probe = QTimer(interval=TICK_MS)
    probe.setTimerType(Qt.TimerType.PreciseTimer)

    def tick() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()
        now = time.thread_time()
        busy.append((now - cpu["last"]) * 1000)
        cpu["last"] = now

    probe.timeout.connect(tick)
    bar = view.verticalScrollBar()
    steps = {"frame": 0}
    page = max(view.rowAt(view.viewport().height() - 1) - view.rowAt(0), 1)

    def step() -> None:
        frame = steps["frame"]
        steps["frame"] += 1
        if frame % 300 == 299:
            bar.setValue(bar.maximum() * ((frame * 7919) % 1000) // 1000)  # now and then a jump, as a drag would
        elif (frame // 150) % 2:
            bar.setValue(max(bar.value() - page, 0))  # page up a while
        else:
            bar.setValue(min(bar.value() + 3, bar.maximum()))  # then the wheel, three rows a notch

    scroller = QTimer(interval=FRAME_MS)
    scroller.timeout.connect(step)
    bar.setValue(0)
    clock.start()
    cpu["last"] = time.thread_time()
    probe.start()
    scroller.start()
    run_until(lambda: steps["frame"] >= args.frames, timeout_s=600)
    scroller.stop()
    run_until(visible_filled)
    probe.stop()
    after = rss_mb()

    print(f"grid bench: {args.rows:,} synthetic rows, JSON pages decoded off the GUI thread, offscreen view 1100x700")
    print(f"  time to first page          {first_ms:8.1f} ms  (target <= 300)")
    print(f"  time to the last page       {last_ms:8.1f} ms  ({last_requests - 2} request(s) after the first page)")
    print(f"  memory (RSS delta)          {after - before:8.1f} MB  (target <= 300; {model.cached_rows()} rows held)")
    print(
        f"  longest GUI-thread stall    {max(gaps) - TICK_MS:8.1f} ms  over {args.frames} scroll frames (target <= 50)"
    )
    print(f"  longest GUI-thread busy gap {max(busy):8.1f} ms  (its own CPU time; load {os.getloadavg()[0]:.1f})")
    print(
        f"  stall p99 / median          {statistics.quantiles(gaps, n=100)[98]:8.1f} / {statistics.median(gaps):.1f} ms"
    )
    print(f"  requests {len(model.requests)}, stale replies dropped {model.stale_replies}")
    return 0
