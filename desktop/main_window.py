"""The main window: navigation on the left, a page stack, connection state in the status bar."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient
from desktop.backend_host import BackendHost, HostState
from desktop.pages.registry import PageSpec
from desktop.resources import resource_path
from desktop.widgets.notice import Notice, write_message

PREFERRED_SIZE = QSize(1100, 720)
# Room kept for the window manager's title bar and borders, which are unknown until the window is shown.
FRAME_ALLOWANCE = QSize(8, 40)
SIDEBAR_WIDTH = 136
SIDEBAR_MIN_WIDTH = 110

# The state in words; the host's detail (a log line, an exit code) goes to the tooltip for whoever wants it.
STATE_LOOK = {
    HostState.STARTING: ("#c98a00", "Starting the backend…"),
    HostState.CONNECTED: ("#1e8a3c", "Connected"),
    HostState.LOST: ("#c4314b", "The backend stopped; restarting…"),
    HostState.STOPPED: ("#7a8796", "The backend is stopped."),
}


class MainWindow(QMainWindow):
    """The console's one window."""

    def __init__(self, api: ApiClient, host: BackendHost, pages: Sequence[tuple[PageSpec, QWidget]]) -> None:
        super().__init__()
        self.api = api
        self.host = host
        self.setWindowTitle(f"Outpost — {host.data_dir}")
        self.setWindowIcon(QIcon(str(resource_path("icons", "outpost.svg"))))
        self.resize(PREFERRED_SIZE)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.stack = QStackedWidget()
        self.pages = [page for _spec, page in pages]
        for row, (spec, page) in enumerate(pages):
            self.nav.addItem(spec.title)
            self.nav.item(row).setToolTip(f"{spec.title} ({spec.shortcut})")
            self.stack.addWidget(page)
            # Tab moves on to the next control, not the next cell: buttons stay reachable without a mouse.
            for view in page.findChildren(QAbstractItemView):
                view.setTabKeyNavigation(False)
            QShortcut(QKeySequence(spec.shortcut), self, lambda row=row: self.nav.setCurrentRow(row))
        self.nav.currentRowChanged.connect(self._page_chosen)
        self.nav.setCurrentRow(0)
        for keys, action in (
            (QKeySequence.StandardKey.Find, self.find),
            (QKeySequence.StandardKey.New, self.new),
            (QKeySequence(Qt.Key.Key_F5), self.refresh),
            (QKeySequence(Qt.Key.Key_Delete), self.delete),
        ):
            QShortcut(QKeySequence(keys), self, action)

        brand = QLabel("Outpost")
        brand.setObjectName("brand")
        sidebar = QWidget()
        sidebar_layout = QVBoxLayout(sidebar)
        sidebar_layout.setContentsMargins(0, 0, 0, 0)
        sidebar_layout.setSpacing(0)
        sidebar_layout.addWidget(brand)
        sidebar_layout.addWidget(self.nav, 1)

        sidebar.setMinimumWidth(SIDEBAR_MIN_WIDTH)
        # A splitter, so the sidebar can be dragged narrower (or wider) when the pages need the room.
        self.splitter = QSplitter()
        self.splitter.setObjectName("frame")
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([SIDEBAR_WIDTH, 10_000])
        self.setCentralWidget(self.splitter)
        self.notice = Notice(self)

        self.status_dot = QLabel("●")
        self.status_dot.setObjectName("statusDot")
        self.status_text = QLabel()
        self.status_url = QLabel()
        self.status_url.setObjectName("statusUrl")
        self.statusBar().addWidget(self.status_dot)
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.status_url)
        self.account = QLabel()
        self.account.setObjectName("statusAccount")
        self.password_button = QPushButton("Change password…")
        self.password_button.setObjectName("changePassword")
        self.password_button.hide()
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("signOut")
        self.sign_out_button.clicked.connect(api.sign_out)
        self.sign_out_button.hide()
        self.connect_button = QPushButton("Connect…")
        self.connect_button.setObjectName("connect")
        self.connect_button.setToolTip("This machine's backend, or an Outpost server (Ctrl+K)")
        self.statusBar().addPermanentWidget(self.connect_button)
        self.statusBar().addPermanentWidget(self.account)
        self.statusBar().addPermanentWidget(self.password_button)
        self.statusBar().addPermanentWidget(self.sign_out_button)
        api.wrote.connect(self._wrote)
        api.signed_in.connect(self.show_account)
        api.signed_out.connect(lambda _reason: self.show_account(""))
        host.state_changed.connect(self.show_state)
        host.connected.connect(lambda _url: self._reload_current())  # back after a restart: nothing stale on show
        self.show_state(host.state.value, host.detail)
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """No larger than the screen's available area, frame included, and centred in it (a 1024x640 laptop)."""
        screen = self.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
        frame = (self.frameGeometry().size() - self.geometry().size()).expandedTo(FRAME_ALLOWANCE)
        self.resize(self.size().boundedTo(available.size() - frame))
        outer = self.size() + frame
        left = available.x() + max(0, (available.width() - outer.width()) // 2)
        top = available.y() + max(0, (available.height() - outer.height()) // 2)
        self.move(left, top)

    def current_page(self) -> QWidget:
        """The page on show."""
        return self.stack.currentWidget()

    def _page_chosen(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        # What a page shows may have changed since it last loaded (other pages, other clients): load it again.
        self._reload_current()

    def _reload_current(self) -> None:
        unsaved = getattr(self.current_page(), "has_unsaved_changes", None)
        if self.api.session is not None and not (callable(unsaved) and unsaved()):
            self.refresh()

    def refresh(self) -> None:
        """Reload the page on show (F5)."""
        refresh = getattr(self.current_page(), "refresh", None)
        if callable(refresh):
            refresh()

    def find(self) -> None:
        """Put the focus in the page's search box (Ctrl+F)."""
        search = getattr(self.current_page(), "search", None)
        if isinstance(search, QLineEdit):
            search.setFocus(Qt.FocusReason.ShortcutFocusReason)
            search.selectAll()

    def new(self) -> None:
        """The page's New… action (Ctrl+N)."""
        self._press(getattr(self.current_page(), "new_button", None))

    def delete(self) -> None:
        """The page's destructive action on the selection (Del); the page confirms it."""
        self._press(getattr(self.current_page(), "destructive_button", None))

    def _press(self, button: object) -> None:
        if isinstance(button, QAbstractButton) and button.isEnabled() and button.isVisible():
            button.click()

    def _wrote(self, method: str, path: str, body: object) -> None:
        message = write_message(method, path, body)
        if message:
            self.notice.show_message(message)
            # The page on show may list what changed (the audit log lists every write): load it again.
            self._reload_current()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Keep the notice at the foot of the window."""
        super().resizeEvent(event)
        self.notice.place()

    def show_page(self, title: str) -> QWidget:
        """Switch to the page with this title."""
        for row, page in enumerate(self.pages):
            if getattr(page, "title", "") == title:
                self.nav.setCurrentRow(row)
                return page
        raise KeyError(title)

    def show_account(self, email: str) -> None:
        """Who is signed in, with the way out."""
        self.account.setText(f"Signed in as {email}" if email else "")
        self.sign_out_button.setVisible(bool(email))
        self.password_button.setVisible(bool(email))

    def show_state(self, state: str, detail: str) -> None:
        """Reflect the backend connection in the status bar."""
        color, label = STATE_LOOK[HostState(state)]
        self.status_dot.setStyleSheet(f"color: {color};")
        connected = state == HostState.CONNECTED
        mode = " (attached)" if connected and self.host.attached else ""
        if connected and self.host.port_taken:
            mode += f" (port {self.host.port_taken} was in use)"  # short: the bar is narrow at 1024 px
        # The host's starting notes are written for people; its loss reasons are log lines, kept for the tooltip.
        self.status_text.setText(detail if state == HostState.STARTING and detail else label + mode)
        self.status_text.setToolTip(self.host.port_note if connected and self.host.port_note else detail)
        self.status_url.setText(self.host.url or "")
        where = self.host.server_url or str(self.host.data_dir)  # which Outpost this window administers
        self.setWindowTitle(f"Outpost — {where}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Stop the child backend with the window; an attached one keeps running."""
        self.host.stop()
        self.api.close()
        super().closeEvent(event)
