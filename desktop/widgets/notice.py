"""A brief, non-blocking notice at the foot of the window: "User created", "Key revoked"."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

SHOWN_MS = 3000

# What a successful write did, by method and the resource its path names; writes not listed say nothing.
WRITE_MESSAGES = {
    ("POST", "users"): "User created",
    ("PATCH", "users/*"): "User saved",
    ("POST", "users/*/password"): "Password reset",
    ("POST", "roles"): "Role created",
    ("PATCH", "roles/*"): "Role saved",
    ("DELETE", "roles/*"): "Role deleted",
    ("POST", "api-keys"): "Key created",
    ("DELETE", "api-keys/*"): "Key revoked",
    ("POST", "auth/me/password"): "Password changed",
    ("POST", "collections"): "Collection created",
    ("PATCH", "collections/*"): "Schema saved",
    ("DELETE", "collections/*"): "Collection deleted",
    ("POST", "collections/*/records"): "Record created",
    ("POST", "collections/*/export"): "Export started",
    ("POST", "collections/*/import"): "Import started",
    ("POST", "jobs"): "Job started",
    ("POST", "jobs/*/cancel"): "Cancel requested",
    ("POST", "jobs/*/retry"): "Job queued again",
    ("POST", "backups"): "Backup started",
    ("POST", "backups/*/restore"): "Restore started",
}


def write_message(method: str, path: str, body: object = None) -> str | None:
    """The notice for a successful write, or None for writes people need not be told about (a sign-in, say)."""
    if "dry_run=true" in path:
        return None  # a preview changed nothing
    route = path.split("?", 1)[0].removeprefix("/api/v1/")
    parts = route.strip("/").split("/")
    if parts[:2] != ["auth", "me"]:  # ids become *, fixed words stay
        parts = [parts[0], *("*" if index % 2 == 0 else part for index, part in enumerate(parts[1:]))]
    if (method, "/".join(parts)) == ("PATCH", "users/*") and isinstance(body, dict) and set(body) == {"is_active"}:
        return "User enabled" if body["is_active"] else "User disabled"
    return WRITE_MESSAGES.get((method.upper(), "/".join(parts)))


class Notice(QLabel):
    """A label floating over the bottom of its parent that fades after a few seconds; never takes focus."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._timer = QTimer(self, singleShot=True, interval=SHOWN_MS)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str) -> None:
        """Show text for a few seconds (a newer message replaces an older one)."""
        self.setText(text)
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        self._timer.start()

    def place(self) -> None:
        """Centre near the bottom of the parent."""
        parent = self.parentWidget()
        if parent is None:
            return
        self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 48)
