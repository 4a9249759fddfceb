"""One frozen Settings object: CLI flags > OUTPOST_* env > saved settings > defaults."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import platformdirs

from backend.datadir import DataDir
from backend.db.urls import parse_database_url, parse_redis_url, shown_url

Source = Literal["flag", "env", "saved", "default"]
N = TypeVar("N", int, float)


class SettingError(ValueError):
    """A setting value that cannot be used, with the setting's name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


# Names an instance answers to, origins it serves: a handful each; a list longer than this is a mistake.
MAX_LIST_ITEMS = 100


def _list_items(value: str | list[str] | tuple[str, ...]) -> list[str]:
    items = [item.strip() for item in (value.split(",") if isinstance(value, str) else list(value)) if item.strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"lists at most {MAX_LIST_ITEMS} items, not {len(items)}")
    return items


def _parse_host_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    hosts = tuple(item.lower() for item in _list_items(value))
    for host in hosts:
        if any(ch.isspace() or ch in "/@?#" for ch in host):
            raise ValueError(f"{host!r} is not a host name")
    return hosts


def _parse_origin_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    origins = tuple(_list_items(value))
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ValueError(f"{origin!r} is not an http(s) origin")
    return origins


def _parse_network_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    networks = []
    for item in _list_items(value):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def _parse_port(value: str | int) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("must be between 0 and 65535")
    return port


def _parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        upper = str(value).strip().upper()
        if upper not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return upper

    return parse


def _parse_positive_int(value: str | int) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _parse_int_between(low: int, high: int) -> Callable[[str | int], int]:
    return _parse_between(int, "a whole number", low, high)


def _parse_positive_float(value: str | float) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError("must be a positive number")
    return number


def _parse_float_between(low: float, high: float) -> Callable[[str | float], float]:
    return _parse_between(float, "a number", low, high)


def _parse_between(convert: Callable[[Any], N], what: str, low: N, high: N) -> Callable[[Any], N]:
    def parse(value: Any) -> N:
        number = convert(value)
        if not low <= number <= high:  # type: ignore[operator]
            raise ValueError(f"must be {what} from {low:g} to {high:g}")
        return number

    return parse


def _parse_optional_path(value: str | Path | None) -> Path | None:
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class SettingSpec:
    """How one setting is named, parsed, defaulted and whether it may be saved."""

    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    savable: bool = False
    # Saving it can weaken security (who may call, what is logged, how much is accepted): the
    # administrator permission (*) is needed, not settings:write alone.
    admin_only: bool = False


# The API's bounds on max_body_bytes: a smaller limit would refuse the API's own small bodies.
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 1024**3
# Uploads (an import's file) are streamed to disk, never held in memory: their own, larger limit.
MAX_UPLOAD_BYTES = 1024**4

SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("data_dir", lambda v: Path(v).expanduser(), None, "Where Outpost keeps everything."),
    SettingSpec("host", str, "127.0.0.1", "Address the API listens on."),
    SettingSpec("port", _parse_port, 8765, "Port the API listens on (0 picks a free one)."),
    SettingSpec(
        "allowed_hosts",
        _parse_host_list,
        (),
        "Extra Host header values accepted besides the bound address and localhost.",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "cors_origins",
        _parse_origin_list,
        (),
        "Browser origins allowed to call the API (none by default).",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "trusted_proxies",
        _parse_network_list,
        (),
        "Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client; none by default.",
    ),
    SettingSpec(
        "sqlite_synchronous",
        _parse_choice("FULL", "NORMAL"),
        "FULL",
        "SQLite durability: FULL survives power loss, NORMAL is faster.",
        savable=True,
    ),
    SettingSpec(
        "log_level",
        _parse_choice("DEBUG", "INFO", "WARNING", "ERROR"),
        "INFO",
        "Least severe log level written.",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "log_level_drivers",
        _parse_choice("DEBUG", "INFO", "WARNING", "ERROR"),
        "WARNING",
        "Least severe level logged by the database, HTTP and queue libraries (their debug lines hold secrets).",
    ),
    SettingSpec(
        "max_body_bytes",
        _parse_int_between(MIN_BODY_BYTES, MAX_BODY_BYTES),
        10 * 1024 * 1024,
        "Largest request body accepted, in bytes.",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "max_upload_bytes",
        _parse_int_between(MIN_BODY_BYTES, MAX_UPLOAD_BYTES),
        2 * 1024**3,
        "Largest file accepted for an import, in bytes (streamed to disk, not held in memory).",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "backup_interval_hours",
        _parse_int_between(0, 24 * 365),
        24,
        "Hours between scheduled backups (each at the start of its slot, UTC; 0 turns them off).",
        savable=True,
    ),
    SettingSpec(
        "backup_keep", _parse_int_between(1, 10_000), 10, "Backups kept (by hand or on schedule).", savable=True
    ),
    SettingSpec(
        "jobs_keep_days",
        _parse_int_between(1, 36_500),
        30,
        "Days finished jobs, their exported files and import reports are kept.",
        savable=True,
    ),
    SettingSpec(
        "rate_limit_per_minute",
        _parse_positive_int,
        6000,
        "Requests a minute allowed to each user or API key (anonymous clients: per address).",
        savable=True,
        admin_only=True,
    ),
    SettingSpec(
        "writer_wait_s",
        _parse_positive_float,
        30.0,
        "Longest a request waits for the database's one writer before it is answered 503 with Retry-After.",
    ),
    SettingSpec(
        "job_lease_s",
        _parse_float_between(3.0, 3600.0),
        30.0,
        "Seconds a running job's worker may go unheard of before the job is taken back (retried or failed).",
    ),
    SettingSpec("secret_file", _parse_optional_path, None, "File holding the signing secret."),
    SettingSpec(
        "database_url",
        lambda v: parse_database_url(v) if v else None,
        None,
        "Server mode: the PostgreSQL database (postgresql://USER:PASSWORD@HOST/DATABASE); "
        "none keeps SQLite in the data directory.",
    ),
    SettingSpec(
        "redis_url",
        lambda v: parse_redis_url(v) if v else None,
        None,
        "Server mode: the Redis that instances share their cache, rate-limit counts and sign-outs through "
        "(redis://[:PASSWORD@]HOST:PORT/DB, rediss:// for TLS).",
    ),
)

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
SAVABLE = frozenset(spec.name for spec in SPECS if spec.savable)
ADMIN_ONLY = frozenset(spec.name for spec in SPECS if spec.savable and spec.admin_only)


def default_data_dir() -> Path:
    """The platform's per-user data directory for Outpost."""
    return Path(platformdirs.user_data_dir("outpost", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """The running configuration; build a new one to change it."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    sqlite_synchronous: str = "FULL"
    log_level: str = "INFO"
    log_level_drivers: str = "WARNING"
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 2 * 1024**3
    backup_interval_hours: int = 24
    backup_keep: int = 10
    jobs_keep_days: int = 30
    rate_limit_per_minute: int = 6000
    writer_wait_s: float = 30.0
    job_lease_s: float = 30.0
    secret_file: Path | None = None
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    secret_key: str | None = field(default=None, repr=False)
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False)

    @property
    def mode(self) -> Literal["embedded", "server"]:
        """Embedded (SQLite in the data dir) unless a server database is named."""
        return "server" if self.database_url else "embedded"

    @property
    def paths(self) -> DataDir:
        """The data directory's layout."""
        return DataDir(self.data_dir)

    def with_saved(self, saved: Mapping[str, Any]) -> Settings:
        """A copy where saved values replace what still stands at its default."""
        changes: dict[str, Any] = {}
        sources = dict(self.sources)
        for name, raw in saved.items():
            if name not in SAVABLE or sources.get(name, "default") != "default":
                continue
            changes[name] = _parse(SPECS_BY_NAME[name], raw)
            sources[name] = "saved"
        return dataclasses.replace(self, **changes, sources=sources)

    def public_view(self) -> dict[str, Any]:
        """Every setting with its value and source; secrets left out."""
        view = {}
        for spec in SPECS:
            value = getattr(self, spec.name)
            if isinstance(value, Path):
                value = str(value)
            elif spec.name in ("database_url", "redis_url") and value:
                value = shown_url(value)
            elif isinstance(value, tuple):
                value = list(value)
            view[spec.name] = {
                "value": value,
                "source": self.sources.get(spec.name, "default"),
                "savable": spec.savable,
                "help": spec.help,
            }
        return view


def _parse(spec: SettingSpec, raw: Any) -> Any:
    try:
        return spec.parse(raw)
    except (TypeError, ValueError) as exc:
        raise SettingError(spec.name, str(exc) or "invalid value") from exc


def load_settings(flags: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Settings from CLI flags over OUTPOST_* environment over defaults."""
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for spec in SPECS:
        env_name = f"OUTPOST_{spec.name.upper()}"
        if flags.get(spec.name) is not None:
            values[spec.name] = _parse(spec, flags[spec.name])
            sources[spec.name] = "flag"
        elif env.get(env_name):
            values[spec.name] = _parse(spec, env[env_name])
            sources[spec.name] = "env"
        else:
            sources[spec.name] = "default"
    if values.get("redis_url") and not values.get("database_url"):
        # The queue would be Redis's, run by workers that need a server database: jobs would wait for ever.
        raise SettingError("redis_url", "goes with a server database: set database_url too (or neither)")
    values.setdefault("data_dir", default_data_dir())
    secret_key = env.get("OUTPOST_SECRET_KEY") or None
    return Settings(**values, secret_key=secret_key, sources=sources)
