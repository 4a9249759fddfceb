"""Users: the table, create, edit (name, email, roles), disable/enable, reset password."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from desktop.api import ApiClient
from desktop.models.rows_model import Column, local_time
from desktop.pages.list_page import ListPage
from desktop.widgets.confirm import confirm
from desktop.widgets.form_dialog import FormDialog, FormField

COLUMNS = [
    Column("Email", lambda u: u["email"]),
    Column("Name", lambda u: u["display_name"]),
    Column("Roles", lambda u: ", ".join(u["roles"]) or "—"),
    Column(
        "State", lambda u: "Active" if u["is_active"] else "Disabled", lambda u: None if u["is_active"] else "#a4262c"
    ),
    Column("Last sign-in", lambda u: local_time(u["last_login_at"]) or "never", whole=True),
    Column("Created", lambda u: local_time(u["created_at"]), whole=True),
]


class UsersPage(ListPage):
    """Everyone who can sign in."""

    title = "Users"
    subtitle = "People who sign in to this instance, and their roles."
    nouns = ("user", "users")

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(api, COLUMNS, parent)
        self.roles: list[str] = []
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search by email or name…")
        self.search.returnPressed.connect(self.refresh)
        self.body.addWidget(self.search)
        self.add_table()
        self.new_button = self.header.add_button("New user…", "primary")
        self.edit_button = self.header.add_button("Edit…")
        self.toggle_button = self.header.add_button("Disable")
        self.password_button = self.header.add_button("Reset password…")
        self.destructive_button = self.toggle_button  # Del
        self.new_button.clicked.connect(self.new_user)
        self.edit_button.clicked.connect(self.edit_user)
        self.toggle_button.clicked.connect(self.toggle_active)
        self.password_button.clicked.connect(self.reset_password)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_user())
        self._selection_changed()
        self.dialog: FormDialog | QMessageBox | None = None

    def path(self) -> str:
        query = self.search.text().strip()
        return "/api/v1/users" + (f"?q={quote(query)}" if query else "")

    def load(self) -> None:
        # Roles first, so the dialogs have them to offer by the time the list (and `loaded`) arrives.
        self.api.get_every_page(
            "/api/v1/roles", self.loads.guard(self._roles_loaded), self.loads.guard(lambda _error: self.load_rows())
        )

    def _roles_loaded(self, data: dict[str, Any]) -> None:
        self.roles = [role["name"] for role in data.get("items") or []]
        self.load_rows()

    def _selection_changed(self, *_args: object) -> None:
        user = self.selected()
        for button in (self.edit_button, self.toggle_button, self.password_button):
            button.setEnabled(user is not None)
        self.toggle_button.setText("Enable" if user and not user["is_active"] else "Disable")

    def _role_options(self) -> list[tuple[str, str]]:
        return [(name, name) for name in self.roles]

    def _open(self, dialog: FormDialog) -> None:
        self.dialog = dialog
        dialog.open()

    def _send(self, dialog: FormDialog, method: str, path: str, values: dict[str, Any]) -> None:
        def finished(_data: object) -> None:
            dialog.succeed()
            self.refresh()

        self.api.request(method, path, finished, dialog.show_error, body=values)

    def new_user(self) -> None:
        """Ask for a new user's email, name, password and roles."""
        dialog = FormDialog(
            "New user",
            "They sign in with this email and password; roles decide what they may do.",
            [
                FormField("email", "Email", "email"),
                FormField("display_name", "Name"),
                FormField("password", "Password", "password", help="At least 12 characters, not a common password."),
                FormField("roles", "Roles", "checks", value=["viewer"], options=self._role_options()),
            ],
            "Create user",
            lambda values: self._send(dialog, "POST", "/api/v1/users", values),
            self,
        )
        self._open(dialog)

    def edit_user(self) -> None:
        """Change the selected user's email, name and roles."""
        user = self.selected()
        if user is None:
            return
        path = f"/api/v1/users/{user['id']}"
        dialog = FormDialog(
            f"Edit {user['email']}",
            "",
            [
                FormField("email", "Email", "email", value=user["email"]),
                FormField("display_name", "Name", value=user["display_name"]),
                FormField("roles", "Roles", "checks", value=user["roles"], options=self._role_options()),
            ],
            "Save",
            lambda values: self._send(dialog, "PATCH", path, values),
            self,
        )
        self._open(dialog)

    def toggle_active(self) -> None:
        """Disable the selected user after a confirmation (their sessions end at once), or enable them again."""
        user = self.selected()
        if user is None:
            return
        if not user["is_active"]:
            self._set_active(user, True)  # enabling gives access back and loses nothing: no question asked
            return
        self.dialog = confirm(
            self,
            "Disable user",
            f"Disable {user['email']}? They are signed out at once and cannot sign in until enabled again.",
            "Disable",
            lambda: self._set_active(user, False),
        )

    def _set_active(self, user: dict[str, Any], active: bool) -> None:
        self.api.request(
            "PATCH",
            f"/api/v1/users/{user['id']}",
            lambda _d: self.refresh(),
            lambda e: self.header.show_error(self.explain(e)),
            body={"is_active": active},
        )

    def reset_password(self) -> None:
        """Set a new password for the selected user."""
        user = self.selected()
        if user is None:
            return
        path = f"/api/v1/users/{user['id']}/password"
        dialog = FormDialog(
            f"Reset the password of {user['email']}",
            "Their sessions end at once; tell them the new password by a safe channel.",
            [FormField("password", "New password", "password", help="At least 12 characters, not a common password.")],
            "Set password",
            lambda values: self._send(dialog, "POST", path, values),
            self,
            destructive=True,
        )
        self._open(dialog)
