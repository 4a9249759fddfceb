"""Log records lose their secrets; driver loggers stay quiet; log files are owner-only, rotated ones too."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from backend.observability.logging import DRIVER_LOGGERS, LOG_FILE, configure_logging
from backend.observability.redaction import MASK, redact_text

HASH = "$argon2id$v=19$m=19456,t=2,p=1$6hi3DIubXv/+WpGBaiZ3qQ$vX2mNYC05Xb0A1tQ/pVHBhYGKieBhLzPiJI9vXjtmUM"
KEY = "opk_1a2b3c4d_Zm9vYmFyYmF6cXV4LXNlY3JldC1wYXJ0LW9mLXRoZS1rZXk"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    drivers = {name: logging.getLogger(name).level for name in DRIVER_LOGGERS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, driver_level in drivers.items():
        logging.getLogger(name).setLevel(driver_level)
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"executing INSERT INTO users VALUES (?, ?) ('a@b.c', '{HASH}')", HASH.rsplit("$", 2)[1]),
        (f"key presented: {KEY}", KEY.rsplit("_", 1)[1]),
        (f"token {JWT} refused", JWT),
        ("headers: Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("body {'email': 'a@b.c', 'password': 'hunter2 is long'}", "hunter2 is long"),
        ('{"refresh_token": "r3fr3sh-s3cr3t"}', "r3fr3sh-s3cr3t"),
        ("POST /login?password=plain-text-pw&x=1", "plain-text-pw"),
    ],
)
def test_secrets_in_text_are_masked(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert MASK in masked


def test_key_prefix_and_harmless_text_survive() -> None:
    assert redact_text(KEY) == f"opk_1a2b3c4d_{MASK}"
    assert redact_text("GET /api/v1/users 200 in 3.2 ms") == "GET /api/v1/users 200 in 3.2 ms"


def test_log_file_holds_no_secret_from_fields_messages_or_tracebacks(tmp_path: Path, restored_logging: None) -> None:
    configure_logging("DEBUG", tmp_path)
    log = structlog.get_logger("outpost.test")
    log.info("signing in", password="hunter2 is long", authorization=f"Bearer {JWT}", email="a@b.c")
    logging.getLogger("outpost.test.std").info("row %s", (1, HASH))
    try:
        raise RuntimeError(f"failed with key {KEY}")
    except RuntimeError:
        log.exception("boom")
    text = (tmp_path / LOG_FILE).read_text()
    for secret in ("hunter2", JWT, HASH.rsplit("$", 1)[1], KEY.rsplit("_", 1)[1]):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["email"] == "a@b.c"
    assert lines[0]["password"] == MASK
    assert "RuntimeError" in lines[2]["exception"]


def test_driver_loggers_stay_at_warning_unless_asked(tmp_path: Path, restored_logging: None) -> None:
    configure_logging("DEBUG", tmp_path)
    assert all(logging.getLogger(name).getEffectiveLevel() == logging.WARNING for name in DRIVER_LOGGERS)
    assert logging.getLogger("outpost.anything").getEffectiveLevel() == logging.DEBUG
    configure_logging("DEBUG", tmp_path, drivers_level="DEBUG")
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.DEBUG
    configure_logging("ERROR", tmp_path, drivers_level="DEBUG")
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.ERROR


def test_log_files_are_owner_only_whatever_the_umask_and_after_rotation(tmp_path: Path, restored_logging: None) -> None:
    previous = os.umask(0o022)
    try:
        configure_logging("INFO", tmp_path)
        structlog.get_logger("outpost.test").info("first")
        [handler] = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None)]
        handler.doRollover()  # type: ignore[attr-defined]
        structlog.get_logger("outpost.test").info("second")
    finally:
        os.umask(previous)
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [LOG_FILE, f"{LOG_FILE}.1"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
