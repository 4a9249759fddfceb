"""Email addresses and display names: one normal form, one uniqueness key, and the characters refused.

NFKC folds the look-alikes Unicode itself declares the same (fullwidth letters, `e` + U+0301 = `é`);
casefold then makes the key case-blind beyond ASCII. What NFKC leaves alone is refused instead: control
and invisible characters (NUL, ESC, zero-width, bidi overrides), unassigned code points, and a label
mixing scripts (a Cyrillic U+0430 among Latin letters), the usual form of an address made to pass for another.
"""

from __future__ import annotations

import re
import unicodedata

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Control, format (zero-width, bidi), unassigned, private use, surrogates; line and paragraph separators.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cn": "a character Unicode does not assign",
    "Co": "a private-use character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
# Scripts that are written together (UTS #39, "highly restrictive"): Latin may join each of these sets.
_WRITTEN_TOGETHER = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
# Letters whose names do not start with their script, but which belong with any script around them.
_SHARED_LETTER_PREFIXES = ("KATAKANA-HIRAGANA", "MODIFIER LETTER")


def normal_form(text: str) -> str:
    """The NFKC form, trimmed: what is stored and shown."""
    # Trimmed after NFKC too: compatibility forms can decompose to a space (U+00B4 is space + U+0301).
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).strip())


def email_key(email: str) -> str:
    """The form under which emails are unique and found at sign-in: NFKC, case-folded."""
    # casefold can leave text that is no longer NFKC, hence the second pass (Unicode's NFKC_Casefold idea).
    return normal_form(normal_form(email).casefold())


def refused_character(text: str) -> str | None:
    """Why text holds a character no name or address may hold (naming it), or None."""
    for char in text:
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            return f"must not contain {kind} (U+{ord(char):04X})"
    return None


def script_of(char: str) -> str | None:
    """The script a letter is written in (None for digits, marks, punctuation and shared letters).

    Python's unicodedata has no Script property; a letter's name starts with its script's name
    (LATIN SMALL LETTER A, CYRILLIC SMALL LETTER A, CJK UNIFIED IDEOGRAPH-4E00), which is enough here.
    """
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name or name.startswith(_SHARED_LETTER_PREFIXES):
        return None
    first = name.split(" ", 1)[0]
    return "Han" if first == "CJK" else first.title()


def mixed_scripts(label: str) -> list[str] | None:
    """The scripts a label mixes when they are not written together, sorted; None when it is fine."""
    scripts = {script for char in label if (script := script_of(char)) is not None}
    if len(scripts) <= 1 or any(scripts <= together for together in _WRITTEN_TOGETHER):
        return None
    return sorted(scripts)


def email_problem(email: str) -> str | None:
    """Why email is not usable as an address (judged in its normal form), or None."""
    if problem := refused_character(email):  # untrimmed: str.strip() would drop some control characters
        return problem
    normal = normal_form(email)
    if not _EMAIL.match(normal) or len(normal) > MAX_EMAIL_LENGTH:
        return "is not an email address"
    if problem := refused_character(normal):
        return problem
    local, domain = normal.rsplit("@", 1)
    for label in [*local.split("."), *domain.split(".")]:
        if scripts := mixed_scripts(label):
            return f"mixes scripts in one part ({' and '.join(scripts)}): such addresses pass for others"
    return None


def display_name_problem(name: str) -> str | None:
    """Why a display name is not usable, or None."""
    normal = normal_form(name)
    if not normal:
        return "must not be empty"
    return refused_character(name) or refused_character(normal)
