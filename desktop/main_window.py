"""The main window: navigation on the left, a page stack, connection state in the status bar."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient
from desktop.backend_host import BackendHost, HostState
from desktop.resources import resource_path

STATE_LOOK = {
    HostState.STARTING: ("#c98a00", "Starting"),
    HostState.CONNECTED: ("#1e8a3c", "Connected"),
    HostState.LOST: ("#c4314b", "Backend lost"),
    HostState.STOPPED: ("#7a8796", "Stopped"),
}


class MainWindow(QMainWindow):
    """The console's one window."""

    def __init__(self, api: ApiClient, host: BackendHost, pages: list[QWidget]) -> None:
        super().__init__()
        self.api = api
        self.host = host
        self.setWindowTitle(f"Outpost — {host.data_dir}")
        self.setWindowIcon(QIcon(str(resource_path("icons", "outpost.svg"))))
        self.resize(1100, 720)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(200)
        self.stack = QStackedWidget()
        self.pages = pages
        for page in pages:
            self.nav.addItem(getattr(page, "title", page.objectName()))
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)

        brand = QLabel("Outpost")
        brand.setObjectName("brand")
        sidebar = QWidget()
        sidebar_layout = QVBoxLayout(sidebar)
        sidebar_layout.setContentsMargins(0, 0, 0, 0)
        sidebar_layout.setSpacing(0)
        sidebar_layout.addWidget(brand)
        sidebar_layout.addWidget(self.nav, 1)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

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
        self.statusBar().addPermanentWidget(self.account)
        self.statusBar().addPermanentWidget(self.password_button)
        self.statusBar().addPermanentWidget(self.sign_out_button)
        api.signed_in.connect(self.show_account)
        api.signed_out.connect(lambda _reason: self.show_account(""))
        host.state_changed.connect(self.show_state)
        self.show_state(host.state.value, host.detail)

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
        if connected and self.host.port_note:
            mode += f" ({self.host.port_note})"
        self.status_text.setText(label + mode if connected else f"{label}: {detail}" if detail else label)
        self.status_url.setText(self.host.url or "")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Stop the child backend with the window; an attached one keeps running."""
        self.host.stop()
        self.api.close()
        super().closeEvent(event)
