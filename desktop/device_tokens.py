"""The console's device tokens: one per account it signed in to, kept owner-only in the data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE_MODE = 0o600


def _account(email: str) -> str:
    return email.strip().lower()


class DeviceTokenStore:
    """The latest device token the backend gave this console for each account (a JSON file, 0600).

    Sent with the account's next sign-in, it keeps the console out of the lock-out that others'
    failed sign-ins put on the account (OWASP device cookies).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}

    def get(self, email: str) -> str | None:
        """The device token for this account, if the console holds one."""
        return self._read().get(_account(email))

    def put(self, email: str, token: str) -> None:
        """Keep token as this account's device token, replacing the file atomically, owner-only."""
        tokens = {**self._read(), _account(email): token}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.write(fd, json.dumps(tokens).encode())
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
