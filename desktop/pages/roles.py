"""Roles: a matrix of permissions by role; custom roles are edited in place, built-in ones are fixed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from desktop.api import ApiClient, ApiError
from desktop.pages.newest_load import NewestLoad
from desktop.widgets.confirm import confirm
from desktop.widgets.form_dialog import FormDialog, FormField
from desktop.widgets.page_header import PageHeader

EVERYTHING = "*"
EVERYTHING_MEANS = "Everything, now and as new permissions arrive"
PERMISSION_HEADER_WIDTH = 320  # longer descriptions are elided here, and shown whole in the tooltip and details
BUILTIN_TINT = "#eef1f4"  # the grey of read-only cells
BUILTIN_TEXT = "#6b7785"  # and of their column titles


def holders(count: int) -> str:
    """'1 user', '3 users'."""
    return f"{count} user" if count == 1 else f"{count} users"


def column_title(role: dict[str, Any]) -> str:
    """'editor' over 'built-in, fixed · 3 users'; a custom role's name over its holders."""
    if role["builtin"]:
        return f"{role['name']}\nbuilt-in, fixed · {holders(role['users'])}"
    return f"{role['name']}\n{holders(role['users'])}"


def role_summary(role: dict[str, Any]) -> str:
    """A role's name, whether it can be edited, and its description."""
    state = "built-in, cannot be changed" if role["builtin"] else "custom, tick its boxes and save"
    description = role.get("description") or "no description"
    return f"{role['name']} ({state}, {holders(role['users'])}): {description}"


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
        self.loads = NewestLoad()
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
        self.matrix.verticalHeader().setMaximumWidth(PERMISSION_HEADER_WIDTH)
        self.matrix.currentCellChanged.connect(lambda *_cells: self._show_details())
        self.matrix.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.matrix.itemSelectionChanged.connect(self._selection_changed)
        self.matrix.installEventFilter(self)
        self.details = QLabel()
        self.details.setObjectName("roleDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(self.header)
        layout.addWidget(self.matrix, 1)
        layout.addWidget(self.details)
        self.save_button.setEnabled(False)
        self._selection_changed()

    def start(self) -> None:
        """Load once signed in."""
        self.refresh()

    def stop(self) -> None:
        """Forget what was shown (signed out); replies still on their way are dropped."""
        self.loads.begin()
        self.matrix.clear()
        self.roles = []
        self.details.clear()
        self._selection_changed()

    def refresh(self) -> None:
        """Load roles and the permission catalogue; only the newest load's reply is shown."""
        self.loads.begin()
        self.api.get_every_page("/api/v1/roles", self.loads.guard(self._loaded), self.loads.guard(self._failed))

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
        for column, role in enumerate(self.roles):
            header = QTableWidgetItem(column_title(role))
            header.setToolTip(role_summary(role))
            if role["builtin"]:
                header.setForeground(QBrush(QColor(BUILTIN_TEXT)))
            self.matrix.setHorizontalHeaderItem(column, header)
        for row, permission in enumerate(self.permissions):
            description = self.describe(permission)
            # The id and, under it, what it allows: a raw id alone means nothing to most administrators.
            header = QTableWidgetItem(f"{permission}\n{description}")
            header.setToolTip(f"{permission}: {description}")
            self.matrix.setVerticalHeaderItem(row, header)
            for column, role in enumerate(self.roles):
                self.matrix.setItem(row, column, self._cell(role, permission, description))
        self.matrix.resizeColumnsToContents()
        self.fit_permission_header()
        self.matrix.resizeRowsToContents()
        self.matrix.blockSignals(False)
        self._show_details()
        self.save_button.setEnabled(False)
        self._selection_changed()  # the reload cleared the selection with signals blocked
        self.loaded.emit()

    def fit_permission_header(self) -> None:
        """The permissions' column as wide as their descriptions where the roles leave room, else elided at 320 px."""
        header = self.matrix.verticalHeader()
        roles_width = sum(self.matrix.columnWidth(column) for column in range(self.matrix.columnCount()))
        spare = self.matrix.width() - 2 * self.matrix.frameWidth() - self.matrix.verticalScrollBar().sizeHint().width()
        wanted = header.sizeHint().width()  # the widest "id / description" pair
        header.setMaximumWidth(max(PERMISSION_HEADER_WIDTH, min(wanted, spare - roles_width)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Give the permission descriptions the room the window has."""
        super().resizeEvent(event)
        self.fit_permission_header()

    @staticmethod
    def _cell(role: dict[str, Any], permission: str, description: str) -> QTableWidgetItem:
        item = QTableWidgetItem()
        item.setCheckState(Qt.CheckState.Checked if permission in role["permissions"] else Qt.CheckState.Unchecked)
        if role["builtin"]:
            # Not enabled: Qt greys the box and ignores clicks; the tint and the tooltip say why.
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setBackground(QBrush(QColor(BUILTIN_TINT)))
            item.setToolTip(f"{role['name']} is built-in and cannot be changed.\n{permission}: {description}")
        else:
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(f"{role['name']}: {description}")
        return item

    def _show_details(self) -> None:
        """Describe the role (and permission) under the cursor, or the first role when none is."""
        if not self.roles:
            self.details.clear()
            return
        column = max(self.matrix.currentColumn(), 0)
        role = self.roles[min(column, len(self.roles) - 1)]
        text = role_summary(role)
        row = self.matrix.currentRow()
        if 0 <= row < len(self.permissions):
            permission = self.permissions[row]
            text += f"\n{permission}: {self.describe(permission)}"
        self.details.setText(text)

    def _header_clicked(self, column: int) -> None:
        # Built-in cells are disabled, so a click on their header does not move the current cell: say it here.
        if 0 <= column < len(self.roles):
            self.details.setText(role_summary(self.roles[column]))

    def describe(self, permission: str) -> str:
        """What a permission allows, collection-scoped ones included."""
        if permission == EVERYTHING:
            return EVERYTHING_MEANS
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Tabbing into the matrix puts the cursor on the first custom role (built-in cells cannot take it)."""
        if watched is self.matrix and event.type() == QEvent.Type.FocusIn:
            current = self.matrix.currentItem()
            custom = [column for column, role in enumerate(self.roles) if not role["builtin"]]
            if (current is None or not current.flags() & Qt.ItemFlag.ItemIsEnabled) and custom and self.permissions:
                self.matrix.setCurrentCell(0, custom[0])
        return super().eventFilter(watched, event)

    def _selection_changed(self) -> None:
        """Delete follows the selection: a custom role's column, never a built-in one's."""
        role = self.selected_role()
        self.delete_button.setEnabled(role is not None and not role["builtin"])

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
