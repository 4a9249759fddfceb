"""The console's pages, in navigation order: the one place a page is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desktop.api import ApiClient
from desktop.pages.api_keys import ApiKeysPage
from desktop.pages.audit import AuditPage
from desktop.pages.backups import BackupsPage
from desktop.pages.collections import CollectionsPage
from desktop.pages.dashboard import DashboardPage
from desktop.pages.jobs import JobsPage
from desktop.pages.records import RecordsPage
from desktop.pages.roles import RolesPage
from desktop.pages.users import UsersPage


@dataclass(frozen=True)
class PageSpec:
    """A page: its name (the Console attribute), navigation title, how to build it, and its shortcut."""

    name: str
    title: str
    factory: Callable[[ApiClient], QWidget]
    shortcut: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("dashboard", DashboardPage.title, DashboardPage, "Ctrl+1"),
    PageSpec("users", UsersPage.title, UsersPage, "Ctrl+2"),
    PageSpec("roles", RolesPage.title, RolesPage, "Ctrl+3"),
    PageSpec("api_keys", ApiKeysPage.title, ApiKeysPage, "Ctrl+4"),
    PageSpec("audit", AuditPage.title, AuditPage, "Ctrl+5"),
    # Appended so the shortcuts people know keep their pages; the lead may move them up.
    PageSpec("collections", CollectionsPage.title, CollectionsPage, "Ctrl+6"),
    PageSpec("records", RecordsPage.title, RecordsPage, "Ctrl+7"),
    PageSpec("jobs", JobsPage.title, JobsPage, "Ctrl+8"),
    PageSpec("backups", BackupsPage.title, BackupsPage, "Ctrl+9"),
)
