"""Masking secrets in log records: password hashes, API keys, JWTs, and fields named like secrets."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

# Field names whose values are secret whatever they hold (compared lower-case, '-' as '_').
SECRET_FIELDS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "password_hash",
        "authorization",
        "x_api_key",
        "api_key",
        "key",
        "secret",
        "secret_key",
        "token",
        "access_token",
        "refresh_token",
        "cookie",
        "set_cookie",
    }
)

# Patterns of secrets inside free text (driver debug lines, exception messages, reprs).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # $argon2id$v=19$m=…,t=…,p=…$salt$hash: keep the algorithm, drop parameters, salt and hash.
    (re.compile(r"\$argon2(id|i|d)\$[A-Za-z0-9+/=,.$]+"), r"$argon2\1$" + MASK),
    # opk_<prefix>_<secret>: the prefix names the key (it is listed openly), the rest is the secret.
    (re.compile(r"\b(opk_[A-Za-z0-9]{1,16})_[A-Za-z0-9_\-]+"), r"\1_" + MASK),
    # A JWT: three base64url parts, the first a JSON header ("eyJ").
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), MASK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]+"), r"\1" + MASK),
    # 'password': 'x', "token": "x", password=x (dict reprs, JSON, form bodies, query strings).
    (
        re.compile(
            r"(?i)(\b\w*(?:password|passphrase|secret|token|api_key)\w*[\"']?\s*[:=]\s*)([\"'])(?:\\.|(?!\2).)*\2"
        ),
        r"\1\2" + MASK + r"\2",
    ),
    (re.compile(r"(?i)(\b\w*(?:password|passphrase|secret|token|api_key)\w*=)[^&\s\"',;)]+"), r"\1" + MASK),
)


# Every pattern above needs one of these words: one search rules out most text (an access line's path,
# ids, times) before six substitutions run; it halved /health's throughput at INFO without this.
_MIGHT_HOLD_A_SECRET = re.compile(r"(?i)\$argon2|opk_|eyJ|bearer|password|passphrase|secret|token|api_key")


def redact_text(text: str) -> str:
    """text with every secret it visibly holds masked."""
    if not _MIGHT_HOLD_A_SECRET.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    return name.lower().replace("-", "_") in SECRET_FIELDS


def _is_secret_field(name: object) -> bool:
    return isinstance(name, str) and _is_secret_name(name)


def redact_value(value: Any) -> Any:
    """value with secrets masked, looking inside strings, mappings, lists and tuples."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: MASK if _is_secret_field(k) else redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))  # any other object is rendered as text anyway: mask that text


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
# What structlog's ProcessorFormatter adds to a standard library record's fields for its own use.
_FORMATTER_META = frozenset({"_record", "_from_structlog"})


def redact_secrets(logger: object, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask secrets in every field, the message and a formatted exception included."""
    # Most lines (access lines: a path, ids, numbers) hold plain values under harmless names: one search
    # over them all rules that out, instead of a search per field.
    if not any(_is_secret_field(name) for name in event_dict) and all(
        type(value) in _PLAIN_TYPES or name in _FORMATTER_META for name, value in event_dict.items()
    ):
        text = "\0".join(value for value in event_dict.values() if type(value) is str)
        if not _MIGHT_HOLD_A_SECRET.search(text):
            return event_dict
    return {
        name: value
        if name in _FORMATTER_META
        else MASK
        if _is_secret_field(name) and value is not None
        else redact_value(value)
        for name, value in event_dict.items()
    }
