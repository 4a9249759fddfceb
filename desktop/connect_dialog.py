"""Connect: this machine's backend, or an Outpost server by its URL (remembered for next time)."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

RECENT_KEY = "connections/recent"
RECENT_KEPT = 8
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def url_problem(url: str) -> str | None:
    """Why url cannot name a server, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give the server's address, such as https://outpost.example.org"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "Give the server's address alone (no path after it)"
    return None


def url_warning(url: str) -> str:
    """What a person should know before connecting to url ("" when nothing)."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "This address is not encrypted (http): passwords and data would cross the network readable."
    return ""


def recent_servers(settings: QSettings) -> list[str]:
    """The servers connected to before, the latest first."""
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings gives one remembered item back as a plain string
        value = [value]
    return [str(item) for item in value or [] if not url_problem(str(item))]


def remember_server(settings: QSettings, url: str) -> None:
    """Put url first among the servers remembered."""
    kept = [url, *(item for item in recent_servers(settings) if item != url)][:RECENT_KEPT]
    settings.setValue(RECENT_KEY, kept)
    settings.sync()


class ConnectDialog(QDialog):
    """Choose what the console administers; accepted, server_url() says which ("" for this machine)."""

    def __init__(self, settings: QSettings, current_server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect")
        self.settings = settings
        self.local = QRadioButton("This machine's backend (the console starts it)")
        self.server = QRadioButton("An Outpost server at:")
        self.address = QComboBox()
        self.address.setEditable(True)
        self.address.addItems(recent_servers(settings))
        self.address.setEditText(current_server)
        self.address.lineEdit().setPlaceholderText("https://outpost.example.org")
        self.address.setAccessibleName("Server address")
        self.problem = QLabel()
        self.problem.setObjectName("dialogError")
        self.problem.setWordWrap(True)
        (self.server if current_server else self.local).setChecked(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.accepted.connect(self._connect)
        self.buttons.rejected.connect(self.reject)
        self.address.editTextChanged.connect(self._address_edited)
        self.local.toggled.connect(self._explain)
        layout = QVBoxLayout(self)
        for widget in (self.local, self.server, self.address, self.problem, self.buttons):
            layout.addWidget(widget)
        self._explain()

    def server_url(self) -> str:
        """The server chosen, without a trailing slash; "" for this machine's backend."""
        return self.address.currentText().strip().rstrip("/") if self.server.isChecked() else ""

    def _address_edited(self, _text: str) -> None:
        self.server.setChecked(True)
        self._explain()

    def _explain(self) -> None:
        url = self.server_url()
        self.problem.setText(url_warning(url) if url and not url_problem(url) else "")

    def _connect(self) -> None:
        url = self.server_url()
        if self.server.isChecked():
            problem = url_problem(url)
            if problem:
                self.problem.setText(problem)
                self.address.setFocus()
                return
            remember_server(self.settings, url)
        self.accept()
