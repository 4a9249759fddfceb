"""The setup token of a real `outpost serve`: its path announced (never the token), gone once a user exists."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.backend_process import BackendProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.waiting import wait_until


def test_serve_announces_the_setup_token_file_and_the_cli_ends_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backend = BackendProcess(data_dir)
    try:
        ready = backend.wait_ready()
        token_file = Path(ready["setup_token_file"])
        assert token_file == data_dir / "setup.token"
        token = token_file.read_text()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert wait_until(lambda: any(str(token_file) in line for line in backend.stderr_lines))  # the log says where
        credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        refused = httpx.post(f"{backend.url}/api/v1/setup", json=credentials)  # any local process, no token
        assert refused.status_code == 403, refused.text

        made = subprocess.run(
            [sys.executable, "-m", "backend", "user", "create", "--email", "ops@example.org", "--role", "admin",
             "--password-stdin", "--data-dir", str(data_dir)],
            input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr  # the CLI needs no setup token
        assert not token_file.exists()
        late = httpx.post(f"{backend.url}/api/v1/setup", json=credentials, headers={"X-Setup-Token": token})
        assert late.status_code == 409, late.text
        assert backend.stop() == 0
        assert all(token not in line for line in backend.stderr_lines)
        assert all(token not in line for line in (data_dir / "logs" / "outpost.log").read_text().splitlines())
    finally:
        backend.kill()

    again = BackendProcess(data_dir)  # a user exists: no token is written, none is announced
    try:
        assert again.wait_ready()["setup_token_file"] is None
        assert not (data_dir / "setup.token").exists()
    finally:
        again.kill()
