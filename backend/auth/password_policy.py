"""The password policy: long enough, not the email, not a common password."""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 takes any length; this bounds the work a request can ask for
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why password is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "repeats too few characters to be hard to guess"
    lowered = password.lower()
    if email:
        address = email.strip().lower()
        local = address.split("@", 1)[0]
        if lowered == address or (len(local) >= 4 and local in lowered):
            return "must not contain the email address"
    # "Password123!" is "password" dressed up; strip digits and symbols from both ends before looking it up.
    if _repeats_a_short_unit(lowered):
        return "repeats a short pattern (like abcabcabcabc)"
    stem = _DECORATION.sub("", lowered)
    common = common_passwords()
    if lowered in common or (len(stem) >= 6 and stem in common):
        return "is too common: it appears in lists of leaked passwords"
    # "qwertyuiopas": a common password with a little added on is about as weak as the common one.
    for size in range(len(stem) - 1, 7, -1):
        if stem[:size] in common and size * 4 >= len(stem) * 3:
            return "is a common password with a little added: it appears in lists of leaked passwords"
    return None


def _repeats_a_short_unit(password: str) -> bool:
    """Whether the password is one chunk of at most half its length, repeated (letmeinletmein)."""
    length = len(password)
    return any(
        length % size == 0 and password == password[:size] * (length // size) for size in range(1, length // 2 + 1)
    )
