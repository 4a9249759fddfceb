"""The console's composition root: QApplication, ApiClient, BackendHost, pages, main window."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QMessageLogContext, QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QWidget

from desktop.api import ApiClient
from desktop.backend_host import BackendHost
from desktop.connect_dialog import ConnectDialog
from desktop.device_tokens import DeviceTokenStore
from desktop.main_window import MainWindow
from desktop.pages.api_keys import ApiKeysPage
from desktop.pages.audit import AuditPage
from desktop.pages.backups import BackupsPage
from desktop.pages.collections import CollectionsPage
from desktop.pages.dashboard import DashboardPage
from desktop.pages.jobs import JobsPage
from desktop.pages.records import RecordsPage
from desktop.pages.registry import PAGES
from desktop.pages.roles import RolesPage
from desktop.pages.users import UsersPage
from desktop.resources import resource_path, stylesheet
from desktop.sign_in import SignInFlow

logger = logging.getLogger("outpost.console")


def resolve_data_dir(data_dir: str | None) -> Path:
    """--data-dir, else OUTPOST_DATA_DIR, else the platform's user data dir (as the backend does)."""
    chosen = data_dir or os.environ.get("OUTPOST_DATA_DIR") or platformdirs.user_data_dir("outpost", appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@dataclass
class Console:
    """Everything the console is made of, wired together."""

    api: ApiClient
    host: BackendHost
    pages: dict[str, QWidget]  # by PageSpec.name, in navigation order
    window: MainWindow
    sign_in: SignInFlow

    # Typed shortcuts to the pages tests and tools reach for by name.
    @property
    def dashboard(self) -> DashboardPage:
        """The dashboard page."""
        return self.pages["dashboard"]  # type: ignore[return-value]

    @property
    def collections(self) -> CollectionsPage:
        """The collections page."""
        return self.pages["collections"]  # type: ignore[return-value]

    @property
    def records(self) -> RecordsPage:
        """The records page."""
        return self.pages["records"]  # type: ignore[return-value]

    @property
    def users(self) -> UsersPage:
        """The users page."""
        return self.pages["users"]  # type: ignore[return-value]

    @property
    def roles(self) -> RolesPage:
        """The roles page."""
        return self.pages["roles"]  # type: ignore[return-value]

    @property
    def api_keys(self) -> ApiKeysPage:
        """The API keys page."""
        return self.pages["api_keys"]  # type: ignore[return-value]

    @property
    def audit(self) -> AuditPage:
        """The audit page."""
        return self.pages["audit"]  # type: ignore[return-value]

    @property
    def jobs(self) -> JobsPage:
        """The jobs page."""
        return self.pages["jobs"]  # type: ignore[return-value]

    @property
    def backups(self) -> BackupsPage:
        """The backups page."""
        return self.pages["backups"]  # type: ignore[return-value]


def owner_only_file(path: Path) -> Path:
    """path, created empty and owner-only if missing (QSettings rewrites a file keeping its mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)  # a file made 0644 by an older console
    return path


def build_console(data_dir: Path, command: list[str] | None = None) -> Console:
    """Create the console's parts (a QApplication must exist); nothing starts yet."""
    api = ApiClient()
    host = BackendHost(api, data_dir, command=command)
    pages = {spec.name: spec.factory(api) for spec in PAGES}
    window = MainWindow(api, host, [(spec, pages[spec.name]) for spec in PAGES])
    # The email of the last sign-in is remembered beside the data it belongs to; passwords never are.
    remembered = QSettings(str(owner_only_file(data_dir / "console.ini")), QSettings.Format.IniFormat)
    device_tokens = DeviceTokenStore(data_dir / "device_tokens.json")
    sign_in = SignInFlow(api, remembered, device_tokens, data_dir / "setup.token", window)
    host.connected.connect(lambda _url: sign_in.start())
    host.state_changed.connect(pages["dashboard"].backend_state)
    window.password_button.clicked.connect(sign_in.change_password)
    choose = functools.partial(choose_connection, window, host, api, remembered)
    window.connect_button.clicked.connect(choose)
    QShortcut(QKeySequence("Ctrl+K"), window, choose)
    pages["collections"].open_records.connect(lambda name: open_records(window, pages["records"], name))
    for page in pages.values():
        api.signed_in.connect(lambda _email, page=page: page.start())
        api.signed_out.connect(lambda _reason, page=page: page.stop())
    return Console(api, host, pages, window, sign_in)


def choose_connection(window: MainWindow, host: BackendHost, api: ApiClient, remembered: QSettings) -> None:
    """Ask what to administer; on a change, sign out of the old one and connect to the new."""
    dialog = ConnectDialog(remembered, host.server_url, window)
    if dialog.exec() != ConnectDialog.DialogCode.Accepted or dialog.server_url() == host.server_url:
        return
    api.sign_out()  # the session belongs to the Outpost it was made on
    host.connect_to(dialog.server_url())


def open_records(window: MainWindow, records: RecordsPage, name: str) -> None:
    """Switch to the Records page on the collection called name."""
    records.open_collection(name)
    if window.current_page() is records:
        records.refresh()
    else:
        window.show_page(records.title)  # showing a page loads it


def quiet_offscreen_warnings(_kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's messages to stderr, minus the offscreen platform's note, on every resize, that it cannot size windows."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, styled; reused if one exists."""
    qInstallMessageHandler(quiet_offscreen_warnings)
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Outpost")
    app.setWindowIcon(QIcon(str(resource_path("icons", "outpost.svg"))))
    app.setStyleSheet(stylesheet("light"))
    return app  # type: ignore[return-value]


def log_state(state: str, detail: str) -> None:
    """Log the backend's connection state."""
    logger.info("backend %s%s", state, f": {detail}" if detail else "")


def quit_once_exposed(app: QApplication, window: MainWindow) -> None:
    """Quit once the window system shows the window (what `gui --quit-when-shown` waits for)."""
    handle = window.windowHandle()
    if handle is not None and handle.isExposed():
        print(f"console window shown on the {app.platformName()} platform", file=sys.stderr)
        app.quit()


def run_gui(data_dir: str | None = None, quit_when_shown: bool = False) -> int:
    """Open the console and run until its window closes (or, with quit_when_shown, until it is on screen).

    desktop.launch checks the machine first (a display, the libraries): start the console through it.
    """
    # One stderr line per connection change, for whoever runs the console from a terminal or a script.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    app = application()
    console = build_console(resolve_data_dir(data_dir))
    console.host.state_changed.connect(log_state)
    console.window.show()
    if not quit_when_shown:
        console.host.start()
    app.aboutToQuit.connect(console.window.close)
    # Ctrl-C or SIGTERM close the console like its window does, stopping the child backend.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    ticker = QTimer(interval=250)  # lets Python run its signal handlers while Qt's loop waits
    ticker.timeout.connect(lambda: None)
    if quit_when_shown:
        ticker.timeout.connect(lambda: quit_once_exposed(app, console.window))
    ticker.start()
    return app.exec()


def selftest_window(data_dir: Path) -> str:
    """selftest's window check: render the main window offscreen; a short detail, or raises."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the check must run on a machine with no display too
    from desktop.selftest import render_main_window

    return render_main_window(data_dir)
