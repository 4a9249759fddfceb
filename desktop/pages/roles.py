"""Roles: a matrix of permissions by role; custom roles are edited in place, built-in ones are fixed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from desktop.api import ApiClient, ApiError
from desktop.widgets.confirm import confirm
from desktop.widgets.form_dialog import FormDialog, FormField
from desktop.widgets.page_header import PageHeader

EVERYTHING = "*"
EVERYTHING_MEANS = "Everything, now and as new permissions arrive"


def holders(count: int) -> str:
    """'1 user', '3 users'."""
    return f"{count} user" if count == 1 else f"{count} users"


def column_title(role: dict[str, Any]) -> str:
    """'editor (built-in)' over '3 users'."""
    return f"{role['name']}{' (built-in)' if role['builtin'] else ''}\n{holders(role['users'])}"


class RolesPage(QWidget):
    """Rows are permissions, columns are roles; tick to grant, then save."""

    title = "Roles"
    loaded = Signal()
    saved = Signal()

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.api = api
        self.roles: list[dict[str, Any]] = []
        self.catalogue: dict[str, str] = {}
        self.permissions: list[str] = []
        self.dialog: QWidget | None = None
        self._saving = 0
        self.header = PageHeader(
            "Roles", "What each role may do. Built-in roles are fixed; custom roles can be edited."
        )
        self.new_button = self.header.add_button("New role…")
        self.delete_button = self.header.add_button("Delete role…")
        self.save_button = self.header.add_button("Save changes", "primary")
        self.refresh_button = self.header.add_button("Refresh")
        self.destructive_button = self.delete_button  # Del
        self.new_button.clicked.connect(self.new_role)
        self.delete_button.clicked.connect(self.delete_role)
        self.save_button.clicked.connect(self.save)
        self.refresh_button.clicked.connect(self.refresh)
        self.matrix = QTableWidget()
        self.matrix.setObjectName("permissionMatrix")
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        self.matrix.itemChanged.connect(self._edited)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(self.header)
        layout.addWidget(self.matrix, 1)
        self.save_button.setEnabled(False)

    def start(self) -> None:
        """Load once signed in."""
        self.refresh()

    def stop(self) -> None:
        """Forget what was shown (signed out)."""
        self.matrix.clear()
        self.roles = []

    def refresh(self) -> None:
        """Load roles and the permission catalogue."""
        self.api.get_every_page("/api/v1/roles", self._loaded, self._failed)

    def _failed(self, error: ApiError) -> None:
        self.header.show_error(error.detail)
        self.loaded.emit()

    def _loaded(self, data: dict[str, Any]) -> None:
        self.header.clear_error()
        self.roles = list(data.get("items") or [])
        self.catalogue = dict(data.get("permissions") or {})
        # Collection-scoped grants (records:write:inspections) get rows too, or saving would drop them.
        scoped = sorted({p for role in self.roles for p in role["permissions"]} - {EVERYTHING, *self.catalogue})
        self.permissions = [EVERYTHING, *self.catalogue, *scoped]
        self.matrix.blockSignals(True)
        self.matrix.clear()
        self.matrix.setRowCount(len(self.permissions))
        self.matrix.setColumnCount(len(self.roles))
        self.matrix.setHorizontalHeaderLabels(
            [
                f"{role['name']}{' (built-in)' if role['builtin'] else ''}\n{holders(role['users'])}"
                for role in self.roles
            ]
        )
        self.matrix.setVerticalHeaderLabels(self.permissions)
        for row, permission in enumerate(self.permissions):
            description = EVERYTHING_MEANS if permission == EVERYTHING else self.describe(permission)
            self.matrix.verticalHeaderItem(row).setToolTip(description)
            for column, role in enumerate(self.roles):
                item = QTableWidgetItem()
                flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
                if not role["builtin"]:
                    flags |= Qt.ItemFlag.ItemIsEnabled
                item.setFlags(flags)
                item.setCheckState(
                    Qt.CheckState.Checked if permission in role["permissions"] else Qt.CheckState.Unchecked
                )
                item.setToolTip(f"{role['name']}: {description}")
                self.matrix.setItem(row, column, item)
        self.matrix.resizeColumnsToContents()
        self.matrix.blockSignals(False)
        self.save_button.setEnabled(False)
        self.loaded.emit()

    def describe(self, permission: str) -> str:
        """What a permission allows, collection-scoped ones included."""
        base, _, collection = permission.rpartition(":") if permission.count(":") == 2 else (permission, "", "")
        if collection:
            return f"{self.catalogue.get(base, base)}, in the collection {collection} only"
        return self.catalogue.get(permission, permission)

    def granted(self, column: int) -> list[str]:
        """The permissions ticked in a role's column."""
        return [
            permission
            for row, permission in enumerate(self.permissions)
            if self.matrix.item(row, column).checkState() == Qt.CheckState.Checked
        ]

    def set_granted(self, role_name: str, permission: str, granted: bool) -> None:
        """Tick or untick one cell (as a click would)."""
        column = [role["name"] for role in self.roles].index(role_name)
        row = self.permissions.index(permission)
        self.matrix.item(row, column).setCheckState(Qt.CheckState.Checked if granted else Qt.CheckState.Unchecked)

    def changed_roles(self) -> dict[str, list[str]]:
        """Custom roles whose ticks differ from what was loaded."""
        changed = {}
        for column, role in enumerate(self.roles):
            if not role["builtin"] and set(self.granted(column)) != set(role["permissions"]):
                changed[role["name"]] = self.granted(column)
        return changed

    def has_unsaved_changes(self) -> bool:
        """Whether ticks wait to be saved (the window then leaves the page as it is when shown again)."""
        return bool(self.changed_roles())

    def _edited(self, _item: QTableWidgetItem) -> None:
        self.save_button.setEnabled(bool(self.changed_roles()))

    def save(self) -> None:
        """PATCH every changed custom role, then reload."""
        changes = self.changed_roles()
        self._saving = len(changes)
        for name, permissions in changes.items():
            self.api.request(
                "PATCH", f"/api/v1/roles/{name}", self._one_saved, self._save_failed, body={"permissions": permissions}
            )

    def _one_saved(self, _data: object) -> None:
        self._saving -= 1
        if self._saving == 0:
            self.saved.emit()
            self.refresh()

    def _save_failed(self, error: ApiError) -> None:
        self._saving -= 1
        self.header.show_error(f"Not saved: {error.detail} {' '.join(e.get('message', '') for e in error.errors)}")

    def selected_role(self) -> dict[str, Any] | None:
        """The role whose column is selected."""
        columns = {index.column() for index in self.matrix.selectedIndexes()}
        return self.roles[columns.pop()] if len(columns) == 1 else None

    def new_role(self) -> None:
        """Ask for a name and description; permissions are then ticked in the matrix."""
        dialog = FormDialog(
            "New role",
            "Name it, then tick its permissions in the matrix and save.",
            [
                FormField("name", "Name", help="Lower-case letters, digits, - and _; e.g. inspector."),
                FormField("description", "Description"),
            ],
            "Create role",
            lambda values: self._create(dialog, values),
            self,
        )
        self.dialog = dialog
        dialog.open()

    def _create(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        def created(_data: object) -> None:
            dialog.succeed()
            self.refresh()

        self.api.request("POST", "/api/v1/roles", created, dialog.show_error, body={**values, "permissions": []})

    def delete_role(self) -> None:
        """Delete the selected custom role after a confirmation."""
        role = self.selected_role()
        if role is None or role["builtin"]:
            self.header.show_error("Select a custom role's column to delete it; built-in roles stay.")
            return
        path = f"/api/v1/roles/{role['name']}"
        self.dialog = confirm(
            self,
            "Delete role",
            f"Delete the role “{role['name']}”? Its {holders(role['users'])} lose its permissions at once.",
            "Delete",
            lambda: self.api.request("DELETE", path, lambda _d: self.refresh(), self._failed),
        )
