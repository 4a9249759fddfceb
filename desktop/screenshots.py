"""`python -m desktop.screenshots OUTDIR`: a real backend on a temporary data dir, a PNG of every page and dialog."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication, QWidget

WAIT_S = 60
SIZES = ((1024, 640), (1440, 900))  # the smallest window the console is made for, and a common one
ADMIN = ("ada@field.example", "Ada Lovelace", "screenshots need a long passphrase")
ENDED_STATES = frozenset({"succeeded", "failed", "cancelled"})


def wait_for(signal: SignalInstance, timeout_s: float = WAIT_S, start: Callable[[], object] | None = None) -> Any:
    """Run the event loop until the signal fires (start() is called once connected); its first argument."""
    loop = QEventLoop()
    fired: list[Any] = []
    signal.connect(lambda *args: (fired.append(args[0] if args else True), loop.quit()))
    if start is not None:
        start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if not fired:
        loop.exec()
    if not fired:
        raise RuntimeError(f"timed out after {timeout_s} s waiting for {signal}")
    return fired[0]


def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Run the event loop until condition() holds, checking every 20 ms."""
    loop = QEventLoop()
    ticker = QTimer(interval=20)
    ticker.timeout.connect(lambda: condition() and loop.quit())
    ticker.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    ticker.stop()
    if not condition():
        raise RuntimeError(f"timed out after {timeout_s} s waiting for {condition}")


def settle(app: QApplication, rounds: int = 5) -> None:
    """Let pending paints and replies run."""
    for _ in range(rounds):
        app.processEvents()


def call(api: Any, method: str, path: str, body: Any = None) -> Any:
    """A blocking API call for seeding (the event loop keeps running meanwhile)."""
    loop = QEventLoop()
    result: list[Any] = []
    done = lambda outcome: (result.append(outcome), loop.quit())  # noqa: E731
    api.request(method, path, done, done, body)
    QTimer.singleShot(WAIT_S * 1000, loop.quit)
    loop.exec()
    if not result or not isinstance(result[0], dict | list | type(None)):
        raise RuntimeError(f"{method} {path} failed: {result}")
    return result[0]


def pause(ms: int) -> None:
    """Let the event loop run for ms (between polls of a job the backend runs)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def job_in(api: Any, job_id: str, states: frozenset[str] = ENDED_STATES) -> dict[str, Any]:
    """The job, once it is in one of states (asked a few times a second)."""
    for _ in range(WAIT_S * 10):
        job = call(api, "GET", f"/api/v1/jobs/{job_id}")
        if job["state"] in states:
            return job
        pause(100)
    raise RuntimeError(f"job {job_id} never reached {sorted(states)}")


def take_screenshots(out_dir: Path, sizes: tuple[tuple[int, int], ...] = SIZES) -> list[Path]:
    """Render every page (at each window size) and dialog against a live, seeded backend; the paths written."""
    from desktop.app import application, build_console

    app = application()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def shoot(widget: QWidget, name: str) -> None:
        settle(app)
        path = out_dir / f"{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    with tempfile.TemporaryDirectory(prefix="outpost-shots-") as data_dir:
        console = build_console(Path(data_dir))
        console.window.resize(*sizes[0])
        console.window.show()
        try:
            first = wait_for(console.sign_in.dialog_shown, start=console.host.start)
            first.set_value("email", ADMIN[0])
            first.set_value("display_name", ADMIN[1])
            first.set_value("password", "short")
            first.set_value("confirm", "short")
            first.submit_button.click()
            wait_until(first.submit_button.isEnabled)  # the API's answer re-enables the form
            shoot(first, "dialog-first-admin-error")
            first.set_value("password", ADMIN[2])
            first.set_value("confirm", ADMIN[2])
            wait_for(console.dashboard.refreshed, start=first.submit_button.click)
            console.window.resize(*sizes[0])
            console.window.show_page(console.collections.title)  # an empty instance offers demo data
            wait_for(console.collections.loaded, start=console.collections.refresh)
            shoot(console.window, "collections-empty")
            for empty in (console.jobs, console.backups):  # what a person sees first: what these pages are for
                console.window.show_page(empty.title)
                wait_for(empty.loaded, start=empty.refresh)
                shoot(console.window, f"{empty.title.lower()}-empty")
            _seed(console.api)
            console.window.notice.hide()  # the seeding's last "Key revoked" would sit over every page
            for width, height in sizes:
                console.window.resize(width, height)
                for page in console.window.pages:
                    console.window.show_page(page.title)
                    loaded = getattr(page, "loaded", None)
                    if loaded is not None:
                        wait_for(loaded, start=page.refresh)
                    if page is console.records:  # its rows arrive after the page has loaded the collections
                        wait_until(lambda: console.records.model.row(0) is not None)
                    shoot(console.window, f"{page.title.lower().replace(' ', '-')}-{width}x{height}")
            _dialogs(console, shoot)
            _backend_stopped(console, sizes[0], shoot)
            console.window.show_page("Dashboard")
            login = wait_for(console.sign_in.dialog_shown, start=console.api.sign_out)  # needs no backend
            shoot(login, "dialog-sign-in")
        finally:
            console.host.stop()
    return written


def _seed(api: Any) -> None:
    """A few users, a custom role and API keys, so the pages show what they are for."""
    call(api, "POST", "/api/v1/roles", {"name": "inspector", "description": "Field inspections", "permissions": []})
    call(api, "PATCH", "/api/v1/roles/inspector", {"permissions": ["records:read", "records:write:inspections"]})
    for email, name, roles in [
        ("bo@field.example", "Bo Okafor", ["editor"]),
        ("chen@field.example", "Chen Wei", ["viewer", "inspector"]),
        ("dara@field.example", "Dara Quinn", ["viewer"]),
    ]:
        call(api, "POST", "/api/v1/users", {"email": email, "display_name": name, "password": ADMIN[2], "roles": roles})
    call(api, "POST", "/api/v1/api-keys", {"name": "nightly export", "scopes": ["records:read"]})
    created = call(api, "POST", "/api/v1/api-keys", {"name": "old sync script", "scopes": ["system:read"]})
    call(api, "DELETE", f"/api/v1/api-keys/{created['api_key']['id']}")
    _seed_inspections(api)
    _seed_jobs(api)


def _seed_inspections(api: Any) -> None:
    """An 'inspections' collection with a dozen records, for the Collections and Records pages."""
    fields = [
        {"name": "site", "type": "text", "required": True, "constraints": {"max_length": 40}},
        {"name": "inspected_on", "type": "date"},
        {"name": "status", "type": "select", "options": ["open", "passed", "failed"]},
        {"name": "score", "type": "integer", "constraints": {"min": 0, "max": 100}},
        {"name": "notes", "type": "text"},
    ]
    description = "Site visits by the field team"
    call(api, "POST", "/api/v1/collections", {"name": "inspections", "description": description, "fields": fields})
    sites = ["North gate", "Pump house 2", "River crossing", "Depot", "East fence", "Water tower"]
    statuses = ["passed", "open", "failed"]
    operations = [
        {
            "method": "POST",
            "collection": "inspections",
            "body": {
                "site": sites[i % len(sites)],
                "inspected_on": f"2026-03-{i + 1:02d}",
                "status": statuses[i % len(statuses)],
                "score": 55 + (i * 7) % 45,
                **({"notes": "Gate hinge rusted; reorder part"} if i % 4 == 1 else {}),
            },
        }
        for i in range(12)
    ]
    call(api, "POST", "/api/v1/batch", {"operations": operations})


def _seed_jobs(api: Any) -> None:
    """An export and a backup that succeeded, an export that failed, a cancelled job and one running."""
    job_in(api, call(api, "POST", "/api/v1/collections/inspections/export", {"format": "csv"})["id"])
    job_in(api, call(api, "POST", "/api/v1/backups")["id"])
    # A failed export: both workers busy, the export queued behind them, its collection deleted meanwhile.
    call(api, "POST", "/api/v1/collections", {"name": "surveys", "fields": [{"name": "site", "type": "text"}]})
    waits = [call(api, "POST", "/api/v1/jobs", {"kind": "wait", "params": {"seconds": 60}})["id"] for _ in range(2)]
    for wait in waits:
        job_in(api, wait, frozenset({"running"}))
    doomed = call(api, "POST", "/api/v1/collections/surveys/export", {"format": "jsonl"})["id"]
    call(api, "DELETE", "/api/v1/collections/surveys")
    for wait in waits:
        call(api, "POST", f"/api/v1/jobs/{wait}/cancel")
    job_in(api, doomed)
    running = call(api, "POST", "/api/v1/jobs", {"kind": "wait", "params": {"seconds": 600}})["id"]
    job_in(api, running, frozenset({"running"}))


def _backend_stopped(console: Any, size: tuple[int, int], shoot: Callable[[QWidget, str], None]) -> None:
    """The dashboard greyed out, in words, while the backend is away (the last shot that needs a backend)."""
    console.window.resize(*size)
    console.window.show_page("Dashboard")
    wait_for(console.dashboard.refreshed, start=console.dashboard.refresh)
    process = console.host._process
    if process is None:
        return  # an attached backend is not the console's to stop
    process.kill()
    wait_until(lambda: not console.dashboard.cards.isEnabled() and console.host.state.value != "connected")
    console.window.notice.hide()  # "Key created", from the dialogs before, is not what this shot is about
    shoot(console.window, "dashboard-backend-stopped")


def _dialogs(console: Any, shoot: Callable[[QWidget, str], None]) -> None:
    """The dialogs of the pages and the status bar (the login dialog comes last, after signing out)."""
    from desktop.pages.api_keys import SecretDialog

    console.window.show_page("Users")
    console.users.new_user()
    dialog = console.users.dialog
    dialog.set_value("email", "not-an-email")
    dialog.set_value("display_name", "Eve")
    dialog.set_value("password", "password1234")
    dialog.submit_button.click()
    wait_until(dialog.submit_button.isEnabled)
    shoot(dialog, "dialog-new-user-errors")
    dialog.reject()
    console.users.select_where("email", "chen@field.example")
    console.users.edit_user()
    shoot(console.users.dialog, "dialog-edit-user")
    console.users.dialog.reject()
    console.users.reset_password()
    shoot(console.users.dialog, "dialog-reset-password")
    console.users.dialog.reject()
    console.window.show_page("Roles")
    console.roles.new_role()
    console.roles.dialog.set_value("name", "auditor")
    console.roles.dialog.set_value("description", "Reads the audit log")
    shoot(console.roles.dialog, "dialog-new-role")
    console.roles.dialog.reject()
    console.window.show_page("API keys")
    console.api_keys.new_key()
    dialog = console.api_keys.dialog
    dialog.set_value("name", "inspection sync")
    dialog.set_value("scopes", ["records:read", "records:write"])
    shoot(dialog, "dialog-new-api-key")
    dialog.submit_button.click()
    keys = console.api_keys
    wait_until(lambda: isinstance(keys.dialog, SecretDialog) and keys.dialog.isVisible())
    shoot(keys.dialog, "dialog-api-key-secret")
    keys.dialog.accept()
    # The list reloads after the write: select once the new key is listed, or the reload clears the selection.
    wait_until(lambda: any(row["name"] == "inspection sync" for row in keys.model.rows))
    console.api_keys.select_where("name", "nightly export")
    console.api_keys.revoke()
    shoot(console.api_keys.dialog, "dialog-revoke-api-key")
    console.api_keys.dialog.reject()
    _data_dialogs(console, shoot)
    console.window.password_button.click()
    shoot(console.sign_in.password_dialog, "dialog-change-password")
    console.sign_in.password_dialog.reject()
    from desktop.connect_dialog import ConnectDialog

    connect = ConnectDialog(console.sign_in.remembered, "", console.window)
    connect.address.setEditText("http://outpost.example.org:8765")  # typed: the server is chosen, with a warning
    shoot(connect, "dialog-connect")
    connect.reject()


def _data_dialogs(console: Any, shoot: Callable[[QWidget, str], None]) -> None:
    """The schema editor (with a refused change previewed) and the new record form."""
    console.window.show_page("Collections")
    wait_for(console.collections.loaded, start=console.collections.refresh)
    console.collections.select_where("name", "inspections")
    editor = console.collections.edit_schema()
    notes = [f["name"] for f in editor.fields].index("notes")
    editor.table.setCurrentCell(notes, 0)
    editor.table.item(notes, 2).setCheckState(editor.table.item(notes, 2).checkState().Checked)  # required
    editor.preview()
    wait_until(lambda: "refuses" in editor.preview_text.toPlainText())
    shoot(editor, "dialog-schema-editor")
    editor.reject()
    console.collections.new_collection()
    shoot(console.collections.dialog, "dialog-new-collection")
    console.collections.dialog.reject()
    console.window.show_page("Records")
    wait_for(console.records.loaded, start=console.records.refresh)
    console.records.new_record()
    shoot(console.records.dialog, "dialog-new-record")
    console.records.dialog.reject()
    _job_dialogs(console, shoot)


def _job_dialogs(console: Any, shoot: Callable[[QWidget, str], None]) -> None:
    """The export dialog (a refused filter, then done), a job in full, and the question before cancelling."""
    records = console.records
    records.filter_bar.edit.setText("score >")
    wait_for(records.model.failed, start=records.filter_bar.apply)
    export = records.export_records()
    export.export()
    wait_until(export.filter_error.isVisible)
    shoot(export, "dialog-export-bad-filter")
    export.filter.setText("score > 70")
    export.export()
    wait_until(export.save_button.isVisible)
    shoot(export, "dialog-export-done")
    export.reject()
    records.filter_bar.edit.clear()
    records.filter_bar.apply()
    jobs = console.window.show_page("Jobs")
    wait_for(jobs.loaded, start=jobs.refresh)
    jobs.select_where("state", "failed")
    shoot(jobs.show_details(), "dialog-job-details")
    jobs.dialog.reject()
    jobs.select_where("state", "running")
    shoot(jobs.cancel_selected(), "dialog-cancel-job")
    jobs.dialog.reject()
    backups = console.backups
    console.window.show_page("Backups")
    wait_for(backups.loaded, start=backups.refresh)
    backups.table.selectRow(0)
    shoot(backups.restore_selected(), "dialog-restore-backup")
    backups.dialog.reject()
    if not backups.schedule.settings:
        wait_for(backups.schedule.shown)
    shoot(backups.schedule.edit(), "dialog-backup-schedule")
    backups.schedule.dialog.reject()
    _import_dialogs(console, shoot)


IMPORT_SAMPLE = (  # a field team's sheet: a column named otherwise, one the export adds, three rows at fault
    "Site,inspected_on,status,score,notes,created_at",
    "North gate,2026-04-01,passed,88,,2026-04-01T09:12:00Z",
    "Pump house 2,2026-04-01,open,61,Seal weeping at the flange,2026-04-01T10:40:00Z",
    "River crossing,yesterday,failed,40,,2026-04-01T11:05:00Z",
    "Depot,2026-04-02,closed,75,,2026-04-02T08:30:00Z",
    "East fence,2026-04-02,passed,140,Score copied from the old form,2026-04-02T09:55:00Z",
    "Water tower,2026-04-03,passed,93,,2026-04-03T14:20:00Z",
)


def _import_dialogs(console: Any, shoot: Callable[[QWidget, str], None]) -> None:
    """The import dialog with a file's columns mapped, then done with rows skipped and their problems listed."""
    records = console.window.show_page("Records")
    wait_for(records.loaded, start=records.refresh)
    with tempfile.TemporaryDirectory(prefix="outpost-import-") as folder:
        sample = Path(folder) / "inspections-april.csv"
        sample.write_text("\n".join(IMPORT_SAMPLE) + "\n", encoding="utf-8")
        dialog = records.import_records()
        wait_until(lambda: dialog.setup.fields is not None)
        dialog.setup.open_file(sample)
        dialog.setup.mapping.choose("Site", "site")
        shoot(dialog, "dialog-import-preview")
        dialog.setup.mode_buttons["skip_invalid"].setChecked(True)
        dialog.start_import()
        wait_until(dialog.again_button.isVisible)
        shoot(dialog, "dialog-import-done")
        dialog.reject()


def main() -> int:
    """Command-line entry."""
    args = sys.argv[1:]
    sizes = SIZES
    if len(args) == 3 and args[1] == "--size":
        width, _, height = args[2].partition("x")
        sizes = ((int(width), int(height)),)
        args = args[:1]
    if len(args) != 1:
        print("usage: python -m desktop.screenshots OUTDIR [--size WIDTHxHEIGHT]", file=sys.stderr)
        return 2
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for path in take_screenshots(Path(args[0]), sizes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
