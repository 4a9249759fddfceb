"""Signing in: the first-administrator dialog on a new instance, the login dialog otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.api import ApiClient, ApiError
from desktop.device_tokens import DeviceTokenStore
from desktop.widgets.form_dialog import FormDialog, FormField

LAST_EMAIL = "sign_in/last_email"
SETUP_TOKEN_HEADER = "X-Setup-Token"
SETUP_WATCH_MS = 3000  # how often an open first-administrator dialog asks whether it is still needed
CREATED_ELSEWHERE = (
    "An administrator has been created for this Outpost instance from elsewhere (not in this console). "
    "Sign in with that account."
)


class SignInFlow(QObject):
    """Asks for credentials whenever the console has a backend but no session."""

    dialog_shown = Signal(object)  # the FormDialog now open

    def __init__(
        self,
        api: ApiClient,
        remembered: QSettings,
        device_tokens: DeviceTokenStore,
        setup_token_file: Path,
        parent_window: QWidget,
    ) -> None:
        super().__init__(parent_window)
        self.api = api
        self.remembered = remembered
        self.device_tokens = device_tokens
        self.setup_token_file = setup_token_file  # in the data dir the console owns (its backend's, or attached)
        self.window = parent_window
        self.dialog: FormDialog | None = None
        self.password_dialog: FormDialog | None = None
        self.quit_question: QMessageBox | None = None
        self._reason = ""
        self._first_admin_dialog: FormDialog | None = None
        # The administrator may be created elsewhere (curl, the CLI) while the dialog is open: keep it true.
        self._setup_watch = QTimer(self, interval=SETUP_WATCH_MS)
        self._setup_watch.timeout.connect(self._watch_setup)
        api.signed_out.connect(self._signed_out)

    def start(self) -> None:
        """Find out whether the instance has users yet, then open the right dialog."""
        if self.api.session is not None or (self.dialog is not None and self.dialog.isVisible()):
            return
        self.api.get("/api/v1/setup", self._setup_state, self._setup_state_failed)

    def _signed_out(self, reason: str) -> None:
        self._reason = reason
        self.start()

    def _setup_state(self, data: dict[str, Any]) -> None:
        if data.get("needs_first_admin"):
            self._first_admin()
        else:
            self._login()

    def _setup_state_failed(self, error: ApiError) -> None:
        self._login()  # the login dialog shows the backend's trouble when it is used

    def _open(self, dialog: FormDialog) -> None:
        self._setup_watch.stop()
        if self.dialog is not None:
            self.dialog.rejected.disconnect()  # replaced, not cancelled: the window stays
            self.dialog.close()
        self.dialog = dialog
        dialog.rejected.connect(self._ask_to_quit)  # no way into the console without signing in
        dialog.open()
        self.dialog_shown.emit(dialog)

    def _ask_to_quit(self) -> None:
        """Esc or Cancel on the sign-in dialog: quit only if the person says so (the default is to stay)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Outpost",
            "Quit Outpost?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window,
        )
        box.setInformativeText("The console needs you to sign in; quitting also stops its backend.")
        quit_button = box.button(QMessageBox.StandardButton.Yes)
        quit_button.setText("Quit")
        stay = box.button(QMessageBox.StandardButton.No)
        stay.setText("Stay and sign in")
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        box.buttonClicked.connect(lambda button: self._answered(button is quit_button))
        self.quit_question = box
        box.open()

    def _answered(self, quit_console: bool) -> None:
        if quit_console:
            self.window.close()
        elif self.dialog is not None:
            self.dialog.open()

    def _login(self) -> None:
        email = str(self.remembered.value(LAST_EMAIL, "") or "")
        intro = self._reason or "Sign in to manage this Outpost instance."
        self._reason = ""
        dialog = FormDialog(
            "Sign in",
            intro,
            [FormField("email", "Email", "email", value=email), FormField("password", "Password", "password")],
            "Sign in",
            lambda values: self._submit_login(dialog, values),
            self.window,
        )
        self._open(dialog)
        if email:
            dialog.inputs["password"].setFocus()

    def _submit_login(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        email = str(values["email"]).strip()

        def signed_in(tokens: dict[str, Any]) -> None:
            self.remembered.setValue(LAST_EMAIL, email)  # the email, never the password
            self.remembered.sync()
            if tokens.get("device_token"):
                self.device_tokens.put(email, str(tokens["device_token"]))
            dialog.succeed()
            self.api.start_session(email, tokens)

        body = {"email": email, "password": values["password"]}
        if device_token := self.device_tokens.get(email):
            body["device_token"] = device_token  # others' failed sign-ins to this account do not hold us back
        self.api.request("POST", "/api/v1/auth/login", signed_in, dialog.show_error, body=body)

    def change_password(self) -> None:
        """One's own password: the current one, the new one twice; every other session ends."""
        dialog = FormDialog(
            "Change your password",
            "Your other sessions end; this one carries on.",
            [
                FormField("current_password", "Current password", "password"),
                FormField(
                    "new_password", "New password", "password", help="At least 12 characters, not a common password."
                ),
                FormField("confirm", "New password again", "password"),
            ],
            "Change password",
            lambda values: self._submit_password(dialog, values),
            self.window,
        )
        self.password_dialog = dialog
        dialog.open()

    def _submit_password(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        if values["new_password"] != values["confirm"]:
            mismatch = [{"field": "confirm", "message": "does not match the new password"}]
            dialog.show_error(ApiError(422, "The new passwords differ.", errors=mismatch))
            return

        def changed(tokens: dict[str, Any]) -> None:
            self.api.renew_session(tokens)
            dialog.succeed()

        body = {"current_password": values["current_password"], "new_password": values["new_password"]}
        self.api.request("POST", "/api/v1/auth/me/password", changed, dialog.show_error, body=body)

    def _first_admin(self) -> None:
        dialog = FormDialog(
            "Create the first administrator",
            "This Outpost instance has no users yet. The account you create now can manage everything; "
            "there are no default credentials.",
            [
                FormField("email", "Email", "email"),
                FormField("display_name", "Name", "text"),
                FormField("password", "Password", "password", help="At least 12 characters, not a common password."),
                FormField("confirm", "Password again", "password"),
            ],
            "Create and sign in",
            lambda values: self._submit_first_admin(dialog, values),
            self.window,
        )
        self._open(dialog)
        self._first_admin_dialog = dialog
        self._setup_watch.start()

    def _watch_setup(self) -> None:
        dialog = self._first_admin_dialog
        if dialog is None or dialog is not self.dialog or not dialog.isVisible():
            if dialog is not self.dialog:
                self._setup_watch.stop()  # replaced: nothing left to watch
            return  # (not visible: its quit question is open; it may come back)
        self.api.get("/api/v1/setup", lambda data: self._setup_seen(dialog, data), lambda _error: None)

    def _setup_seen(self, dialog: FormDialog, data: dict[str, Any]) -> None:
        # Not while this console's own submit is under way: its administrator is the one just created.
        submitting = not dialog.submit_button.isEnabled()
        if dialog is self.dialog and dialog.isVisible() and not submitting and not data.get("needs_first_admin"):
            self._created_elsewhere()

    def _created_elsewhere(self) -> None:
        """The first administrator exists already: the sign-in dialog, saying why, replaces this one."""
        self._first_admin_dialog = None
        self._reason = CREATED_ELSEWHERE
        self._login()

    def _setup_refused(self, dialog: FormDialog, error: ApiError) -> None:
        if error.status == 409:  # "An administrator already exists; sign in instead."
            self._created_elsewhere()
        else:
            dialog.show_error(error)

    def _submit_first_admin(self, dialog: FormDialog, values: dict[str, Any]) -> None:
        if values["password"] != values["confirm"]:
            dialog.show_error(
                ApiError(422, "", errors=[{"field": "confirm", "message": "does not match the password"}])
            )
            return
        email = str(values["email"]).strip()
        body = {"email": email, "display_name": values["display_name"], "password": values["password"]}
        self.api.request(
            "POST",
            "/api/v1/setup",
            lambda _user: self._submit_login(dialog, values),
            lambda error: self._setup_refused(dialog, error),
            body=body,
            headers=self._setup_token(),
        )

    def _setup_token(self) -> dict[str, str]:
        """The one-time setup token the backend wrote to the data dir; none once a user exists (the API says so)."""
        try:
            return {SETUP_TOKEN_HEADER: self.setup_token_file.read_text().strip()}
        except OSError:
            return {}
