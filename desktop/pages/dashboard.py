"""Dashboard: what the backend runs, where its data is, how big, and whether each part is ready."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient, ApiError
from desktop.pages.newest_load import NewestLoad
from desktop.widgets.card import ValueCard
from desktop.widgets.page_header import PageHeader

REFRESH_MS = 5000

# What the page says before it has values to show, by the backend's state (the status bar's words agree).
WAITING_WORDS = {
    "starting": "Waiting for the backend…",
    "connected": "Connected. Sign in to see what the backend runs and how it is doing.",
    "lost": "The backend stopped; it is being restarted…",
    "stopped": "The backend is stopped.",
}
SIGNED_OUT_WORDS = "Signed out. Sign in to see what the backend runs and how it is doing."


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"


def human_duration(seconds: float) -> str:
    """3725 -> '1 h 2 min'."""
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class DashboardPage(QWidget):
    """Live facts from /api/v1/system and /ready, refreshed every few seconds."""

    title = "Dashboard"
    refreshed = Signal()  # after both the system facts and the readiness have been shown

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.api = api
        self._pending = 0
        self.loads = NewestLoad()
        self.system: dict[str, Any] = {}
        self.readiness: dict[str, Any] = {}

        self.header = PageHeader("Dashboard", WAITING_WORDS["stopped"])
        self.subtitle, self.banner = self.header.subtitle, self.header.banner
        self.refresh_button = self.header.add_button("Refresh")
        self.refresh_button.clicked.connect(self.refresh)

        self.version_card = ValueCard("Version")
        self.size_card = ValueCard("Database size")
        self.revision_card = ValueCard("Schema revision")
        self.uptime_card = ValueCard("Up for")
        self.data_dir_card = ValueCard("Data directory", small=True)
        self.process_card = ValueCard("Backend process", small=True)
        cards = QGridLayout()
        cards.setSpacing(12)
        for index, card in enumerate((self.version_card, self.size_card, self.revision_card, self.uptime_card)):
            cards.addWidget(card, 0, index)
        cards.addWidget(self.data_dir_card, 1, 0, 1, 3)
        cards.addWidget(self.process_card, 1, 3)

        readiness_title = QLabel("Readiness")
        readiness_title.setObjectName("sectionTitle")
        self.readiness_grid = QGridLayout()
        self.readiness_grid.setContentsMargins(16, 12, 16, 12)
        self.readiness_grid.setHorizontalSpacing(16)
        self.readiness_grid.setVerticalSpacing(8)
        readiness_box = QFrame()
        readiness_box.setObjectName("card")
        readiness_box.setLayout(self.readiness_grid)
        self.readiness_rows: dict[str, tuple[QLabel, QLabel]] = {}

        self.updated = QLabel("")
        self.updated.setObjectName("pageSubtitle")

        # Everything the backend reported, in one box that greys out while those values are stale.
        self.cards = QWidget()
        values = QVBoxLayout(self.cards)
        values.setContentsMargins(0, 0, 0, 0)
        values.setSpacing(14)
        values.addLayout(cards)
        values.addWidget(readiness_title)
        values.addWidget(readiness_box)
        self._fade = QGraphicsOpacityEffect(self.cards)
        self._fade.setOpacity(0.4)
        self._fade.setEnabled(False)
        self.cards.setGraphicsEffect(self._fade)
        self._updated_at = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(14)
        layout.addWidget(self.header)
        layout.addWidget(self.cards)
        layout.addStretch(1)
        layout.addWidget(self.updated)

        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Refresh now and every few seconds."""
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        """Stop refreshing (signed out): what is shown is no longer kept current."""
        self._timer.stop()
        self.loads.begin()  # the ended session's replies no longer count
        self._pending = 0
        self.header.set_subtitle(SIGNED_OUT_WORDS)
        if self.system:
            self.set_stale(True, "sign in to see them current")

    def backend_state(self, state: str, _detail: str = "") -> None:
        """Grey out the values while the backend is away; ask again when it is back."""
        if not self.system:  # nothing shown yet, so nothing stale: say what is awaited
            self.header.set_subtitle(WAITING_WORDS[state])
            return
        if state != "connected":
            self.set_stale(True)
        elif self.api.session is not None:
            self.refresh()  # the fresh values un-grey the page
        # (connected, signed out: the values stay greyed until someone signs in)

    def set_stale(self, stale: bool, why: str = "the backend is not answering") -> None:
        """Show the values as out of date (greyed, with when they were last true and why) or as current."""
        self.cards.setEnabled(not stale)
        self._fade.setEnabled(stale)
        if stale:
            since = f" from {self._updated_at}" if self._updated_at else ""
            self.updated.setText(f"Last known values{since}: {why}.")

    def _tick(self) -> None:
        # The timer waits for a slow refresh rather than replacing it: on a loaded machine each would be
        # dropped for the next, and none ever shown. A stalled one is replaced by the next F5 or reconnect.
        if not self._pending:
            self.refresh()

    def refresh(self) -> None:
        """Ask the backend for its facts and readiness; the replies to any earlier refresh no longer count."""
        # Never skipped while an earlier one is under way: that one may have gone to a backend that since died
        # (its replies late, or never), and this one (after a restart, say) is what brings the values back.
        self.loads.begin()
        self._pending = 2
        guard = self.loads.guard
        self.api.system(guard(self._show_system), guard(self._show_error))
        self.api.ready(guard(self._show_readiness), guard(self._show_readiness_error))

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            if self.cards.isEnabled():
                self._updated_at = datetime.now().strftime("%H:%M:%S")
                self.updated.setText(f"Updated {self._updated_at}")
            self.refreshed.emit()

    def _show_system(self, data: dict[str, Any]) -> None:
        self.system = data
        self.banner.hide()
        # Server mode's instance answers for a shared deployment; embedded, this machine's own backend does.
        where = "Server instance" if data.get("mode") == "server" else "Local backend"
        self.header.set_subtitle(f"{where} at {self.api.base_url} · {data.get('database_engine', '')}".rstrip(" ·"))
        self.set_stale(False)
        self.version_card.set_value(f"Outpost {data['version']}")
        self.size_card.set_value(human_bytes(int(data["database_bytes"])), data["database_path"])
        self.revision_card.set_value(str(data["schema_revision"]))
        started = datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00"))
        self.uptime_card.set_value(human_duration((datetime.now(UTC) - started).total_seconds()))
        self.data_dir_card.set_value(str(data["data_dir"]))
        self.process_card.set_value(f"pid {data['pid']} · {data['mode']}")
        self._done()

    def _show_error(self, error: ApiError) -> None:
        self.banner.setText(f"Could not read the backend's facts: {error.detail}")
        self.banner.show()
        self._done()

    def _show_readiness(self, data: dict[str, Any]) -> None:
        self._render_checks(data.get("checks") or {})
        self._done()

    def _show_readiness_error(self, error: ApiError) -> None:
        checks = error.problem.get("checks")
        if isinstance(checks, dict):
            self._render_checks(checks)
        else:
            self._render_checks({"backend": {"ok": False, "detail": error.detail}})
        self._done()

    def _render_checks(self, checks: dict[str, Any]) -> None:
        self.readiness = checks
        # A handful of rows: rebuilt whole, so parts that appear or vanish leave nothing behind.
        while self.readiness_grid.count():
            item = self.readiness_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.readiness_rows = {}
        for row, (name, check) in enumerate(sorted(checks.items())):
            ok = bool(check.get("ok"))
            label = QLabel(name.capitalize())
            label.setObjectName("cardValueSmall")
            pill = QLabel("Ready" if ok else "Not ready")
            pill.setObjectName("pillOk" if ok else "pillBad")
            detail = QLabel(str(check.get("detail", "")))
            detail.setObjectName("cardValueSmall")
            detail.setWordWrap(True)
            self.readiness_grid.addWidget(label, row, 0)
            self.readiness_grid.addWidget(pill, row, 1)
            self.readiness_grid.addWidget(detail, row, 2)
            self.readiness_rows[name] = (pill, detail)
        self.readiness_grid.setColumnStretch(2, 1)
