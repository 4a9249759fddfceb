"""The README's curl examples, run as written against a real backend (its port put in for 8765)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backend_process import BackendProcess

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
README_URL = "http://127.0.0.1:8765"


def example(marker: str) -> str:
    """The shell block between <!-- marker --> and <!-- /marker -->."""
    found = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```\n<!-- /{marker} -->", README, re.DOTALL)
    assert found, f"no {marker} example in README.md"
    return found.group(1)


def json_replies(output: str) -> list[dict[str, object]]:
    """The JSON documents curl printed one after another (replies end without a newline)."""
    decoder = json.JSONDecoder()
    replies, position = [], 0
    while position < len(output.rstrip()):
        reply, position = decoder.raw_decode(output, position)
        replies.append(reply)
        while position < len(output) and output[position].isspace():
            position += 1
    return replies


@pytest.fixture
def curl() -> str:
    """curl's path; its absence skips, but fails under CI=true."""
    path = shutil.which("curl")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("curl is not installed (the README's apt line installs it)")
        pytest.skip("curl is not installed")
    return path


def test_setup_then_sign_in_examples_keep_the_tokens_and_use_them(tmp_path: Path, curl: str) -> None:
    backend = BackendProcess(tmp_path / "data")
    try:
        backend.wait_ready()
        script = "\n".join([example("setup-example"), "echo", example("sign-in-example")])
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace(README_URL, backend.url)],
            env={**os.environ, "OUTPOST_DATA_DIR": str(backend.data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        created, me, me_after_refresh = json_replies(done.stdout)
        assert created["email"] == "you@example.org"
        assert me["label"] == "you@example.org"  # /auth/me: the signed-in principal
        assert me_after_refresh["label"] == "you@example.org"
    finally:
        backend.kill()
