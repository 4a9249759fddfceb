"""API keys: create (the secret is shown once, with a copy button), list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient
from desktop.models.rows_model import Column, local_time
from desktop.pages.list_page import ListPage
from desktop.widgets.confirm import confirm
from desktop.widgets.form_dialog import FormDialog, FormField

EXPIRY_CHOICES = [("never", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


def key_state(key: dict[str, Any]) -> str:
    """Active, Revoked or Expired."""
    if key["revoked_at"]:
        return "Revoked"
    if key["expires_at"] and datetime.fromisoformat(key["expires_at"].replace("Z", "+00:00")) <= datetime.now(UTC):
        return "Expired"
    return "Active"


COLUMNS = [
    Column("Name", lambda k: k["name"]),
    Column("Prefix", lambda k: k["prefix"], whole=True),  # how a person tells keys apart
    Column("Scopes", lambda k: ", ".join(k["scopes"])),
    Column("Owner", lambda k: k["owner_email"]),
    Column("State", key_state, lambda k: None if key_state(k) == "Active" else "#a4262c"),
    Column("Last used", lambda k: local_time(k["last_used_at"]) or "never", whole=True),
    Column("Expires", lambda k: local_time(k["expires_at"]) or "never", whole=True),
    Column("Created", lambda k: local_time(k["created_at"]), whole=True),
]


class SecretDialog(QDialog):
    """The new key, shown this once, with a copy button."""

    def __init__(self, key: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("API key created")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 16)
        layout.setSpacing(10)
        heading = QLabel(f"API key “{name}” created")
        heading.setObjectName("dialogTitle")
        warning = QLabel("Copy it now: this is the only time it is shown. Outpost keeps only a digest of it.")
        warning.setObjectName("banner")
        warning.setWordWrap(True)
        self.secret = QLineEdit(key)
        self.secret.setObjectName("secret")
        self.secret.setReadOnly(True)
        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.setObjectName("primary")
        self.copy_button.clicked.connect(self.copy)
        usage = QLabel("Send it as the X-API-Key header (or Authorization: Bearer) from your program.")
        usage.setObjectName("pageSubtitle")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        for widget in (heading, warning, self.secret, self.copy_button, usage, buttons):
            layout.addWidget(widget)

    def copy(self) -> None:
        """Put the key on the clipboard."""
        QApplication.clipboard().setText(self.secret.text())
        self.copy_button.setText("Copied")


class ApiKeysPage(ListPage):
    """The signed-in person's API keys (everyone's, for an administrator)."""

    title = "API keys"
    subtitle = "Credentials for programs that call this instance's API."
    nouns = ("key", "keys")

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.add_table()
        self.new_button = self.header.add_button("New key…", "primary")
        self.revoke_button = self.header.add_button("Revoke…")
        self.destructive_button = self.revoke_button  # Del
        self.new_button.clicked.connect(self.new_key)
        self.revoke_button.clicked.connect(self.revoke)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.permissions: list[str] = []
        self.catalogue: dict[str, str] = {}
        self.dialog: QDialog | None = None
        self._selection_changed()

    def path(self) -> str:
        return "/api/v1/api-keys?everyone=true" if self.can_manage() else "/api/v1/api-keys"

    def can_manage(self) -> bool:
        """Whether the signed-in person may see everyone's keys."""
        return "*" in self.permissions or "api_keys:manage" in self.permissions

    def load(self) -> None:
        # Who am I (it decides whether the list is everyone's keys or one's own) and the scope catalogue, in
        # parallel; the list once both have answered, so that `loaded` means the new-key dialog has all it needs.
        waiting = {"me", "catalogue"}

        def answered(part: str) -> None:
            waiting.discard(part)
            self._offer_scopes()
            if not waiting:
                self.load_rows()

        def me(data: dict[str, Any]) -> None:
            self.permissions = list(data.get("permissions") or [])
            answered("me")

        def catalogue(data: dict[str, Any]) -> None:
            self.catalogue = {item["name"]: item["description"] for item in data.get("items") or []}
            answered("catalogue")

        guard = self.loads.guard
        self.api.get("/api/v1/auth/me", guard(me), guard(lambda _e: answered("me")))
        self.api.get("/api/v1/permissions", guard(catalogue), guard(lambda _e: answered("catalogue")))

    def _offer_scopes(self) -> None:
        """An open new-key dialog offers what is known now (the catalogue or one's permissions may come after it)."""
        dialog = self.dialog
        if isinstance(dialog, FormDialog) and dialog.isVisible() and "scopes" in dialog.inputs:
            dialog.set_options("scopes", self.scope_options(), self.scope_details())

    def _selection_changed(self, *_args: object) -> None:
        key = self.selected()
        self.revoke_button.setEnabled(key is not None and key_state(key) == "Active")

    def scope_options(self) -> list[tuple[str, str]]:
        """The scopes one may give a key: one's own permissions (all of them, for an administrator)."""
        scopes = ["*", *self.catalogue] if "*" in self.permissions else self.permissions
        return [(scope, scope) for scope in scopes]

    def scope_details(self) -> dict[str, str]:
        """What each scope allows, collection-scoped ones included."""
        return {scope: self.describe(scope) for scope, _text in self.scope_options()}

    def describe(self, scope: str) -> str:
        """What holding scope allows."""
        if scope == "*":
            return "Everything its owner may do, as their permissions change"
        base, _, collection = scope.rpartition(":") if scope.count(":") == 2 else (scope, "", "")
        if collection:
            return f"{self.catalogue.get(base, base)}, in the collection {collection} only"
        return self.catalogue.get(scope, "")

    def new_key(self) -> None:
        """Ask for a name, scopes and expiry; then show the secret once."""
        dialog = FormDialog(
            "New API key",
            "A key can do at most what you can; give it only the scopes its program needs.",
            [
                FormField("name", "Name", help="What uses it, e.g. “inspection sync script”."),
                FormField(
                    "scopes", "Scopes", "described_checks", options=self.scope_options(), details=self.scope_details()
                ),
                FormField("expires", "Expires", "choice", value="90", options=EXPIRY_CHOICES),
            ],
            "Create key",
            lambda values: self._create(dialog, values),
            self,
        )
        self.dialog = dialog
        dialog.open()

    def _create(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        expires = values.pop("expires")
        if expires != "never":
            values["expires_at"] = (datetime.now(UTC) + timedelta(days=int(expires))).isoformat()

        def created(data: dict[str, Any]) -> None:
            dialog.succeed()
            self.refresh()
            self.dialog = SecretDialog(data["key"], data["api_key"]["name"], self)
            self.dialog.open()

        self.api.request("POST", "/api/v1/api-keys", created, dialog.show_error, body=values)

    def revoke(self) -> None:
        """Revoke the selected key after a confirmation."""
        key = self.selected()
        if key is None:
            return
        path = f"/api/v1/api-keys/{key['id']}"
        self.dialog = confirm(
            self,
            "Revoke API key",
            f"Revoke “{key['name']}” ({key['prefix']})? Programs using it stop working at once.",
            "Revoke",
            lambda: self.api.request("DELETE", path, lambda _d: self.refresh(), self._failed),
        )
