"""Settings: flags over env over saved over defaults; bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import SettingError, load_settings


def test_defaults_are_loopback_and_durable(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, {})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8765
    assert settings.sqlite_synchronous == "FULL"
    assert settings.cors_origins == ()
    assert settings.sources["host"] == "default"


def test_flag_beats_env_beats_saved_beats_default(tmp_path: Path) -> None:
    env = {"OUTPOST_PORT": "9000", "OUTPOST_LOG_LEVEL": "warning", "OUTPOST_SQLITE_SYNCHRONOUS": "NORMAL"}
    settings = load_settings({"data_dir": tmp_path, "port": 9100}, env)
    assert (settings.port, settings.sources["port"]) == (9100, "flag")
    assert (settings.log_level, settings.sources["log_level"]) == ("WARNING", "env")

    saved = settings.with_saved({"log_level": "DEBUG", "sqlite_synchronous": "FULL", "allowed_hosts": ["a.lan"]})
    assert saved.log_level == "WARNING", "env must beat a saved value"
    assert saved.sqlite_synchronous == "NORMAL", "env must beat a saved value"
    assert (saved.allowed_hosts, saved.sources["allowed_hosts"]) == (("a.lan",), "saved")


def test_saved_values_cannot_touch_flag_only_settings(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, {}).with_saved({"host": "0.0.0.0", "port": 1})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8765


def test_data_dir_from_env(tmp_path: Path) -> None:
    settings = load_settings({}, {"OUTPOST_DATA_DIR": str(tmp_path / "x")})
    assert settings.data_dir == tmp_path / "x"
    assert settings.sources["data_dir"] == "env"


@pytest.mark.parametrize(
    ("flags", "name"),
    [
        ({"port": 70000}, "port"),
        ({"sqlite_synchronous": "OFF"}, "sqlite_synchronous"),
        ({"cors_origins": "example.com"}, "cors_origins"),
        ({"allowed_hosts": "evil.com/path"}, "allowed_hosts"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"max_body_bytes": 1023}, "max_body_bytes"),  # the API's own bounds, so a saved value and a flag agree
        ({"max_body_bytes": 1024**3 + 1}, "max_body_bytes"),
        ({"allowed_hosts": ",".join(f"h{n}.example" for n in range(101))}, "allowed_hosts"),
        ({"cors_origins": [f"https://o{n}.example" for n in range(101)]}, "cors_origins"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, flags: dict[str, object], name: str) -> None:
    with pytest.raises(SettingError) as raised:
        load_settings({"data_dir": tmp_path, **flags}, {})
    assert raised.value.name == name


def test_secret_key_is_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, {"OUTPOST_SECRET_KEY": "x" * 40})
    assert settings.secret_key == "x" * 40
    assert "x" * 40 not in repr(settings)
    assert "secret_key" not in settings.public_view()
