"""The password policy, case by case: length, variety, the email, common passwords; and what passes."""

from __future__ import annotations

import pytest

from backend.auth.password_policy import MAX_LENGTH, MIN_LENGTH, common_passwords, password_problem

EMAIL = "alice.smith@example.org"
TOO_SHORT = f"must be at least {MIN_LENGTH} characters"
TOO_LONG = f"must be at most {MAX_LENGTH} characters"
FEW = "repeats too few characters to be hard to guess"
EMAIL_IN_IT = "must not contain the email address"
COMMON = "is too common: it appears in lists of leaked passwords"
REPEATED = "repeats a short pattern (like abcabcabcabc)"
COMMON_PLUS = "is a common password with a little added: it appears in lists of leaked passwords"


@pytest.mark.parametrize(
    ("password", "email", "problem"),
    [
        pytest.param("", EMAIL, TOO_SHORT, id="empty"),
        pytest.param("Tr0ub4dor&3", EMAIL, TOO_SHORT, id="one-short"),
        pytest.param("x" * 4 + "yz!" * 86, EMAIL, TOO_LONG, id="one-too-long"),
        pytest.param("aaaaaaaaaaaaaaaa", EMAIL, FEW, id="one-character"),
        pytest.param("abcabcabcabcabc", EMAIL, FEW, id="three-characters"),
        pytest.param(EMAIL, EMAIL, EMAIL_IN_IT, id="the-email"),
        pytest.param("ALICE.SMITH@EXAMPLE.ORG", EMAIL, EMAIL_IN_IT, id="the-email-in-capitals"),
        pytest.param("my name is alice.smith!", EMAIL, EMAIL_IN_IT, id="contains-local-part"),
        pytest.param("xXAlice.SmithXx 2024", EMAIL, EMAIL_IN_IT, id="contains-local-part-any-case"),
        pytest.param("password1234", EMAIL, COMMON, id="common"),
        pytest.param("Password123!", EMAIL, COMMON, id="common-capitalised-and-decorated"),
        pytest.param("!!!password!!!", EMAIL, COMMON, id="common-wrapped-in-symbols"),
        pytest.param("WELCOME12345", EMAIL, COMMON, id="common-upper-case"),
        pytest.param("baseball12345", None, COMMON, id="common-without-an-email"),
        pytest.param("q1w2e3r4t5y6", EMAIL, COMMON, id="common-keyboard-walk"),
        pytest.param("abcdabcdabcd", EMAIL, REPEATED, id="a-repeated-unit"),
        pytest.param("letmeinletmein", EMAIL, REPEATED, id="a-repeated-word"),
        pytest.param("qwertyuiopas", EMAIL, COMMON_PLUS, id="common-with-a-little-added"),
    ],
)
def test_refused(password: str, email: str | None, problem: str) -> None:
    assert password_problem(password, email) == problem


@pytest.mark.parametrize(
    ("password", "email"),
    [
        pytest.param("correct horse battery staple", EMAIL, id="passphrase"),
        pytest.param("Tr0ub4dor&3x", EMAIL, id="exactly-the-minimum"),
        pytest.param("abcdefabcdeg", EMAIL, id="six-distinct-characters-not-a-repeat"),
        pytest.param("x" * 5 + "yz!" * 83 + "q", EMAIL, id="exactly-the-maximum"),
        pytest.param("bob is my name, 2024", "bob@example.org", id="short-local-part-not-checked"),
        pytest.param("I like example.org a lot", EMAIL, id="the-domain-is-fine"),
        pytest.param("pässwörd-in-ümlauts", EMAIL, id="non-ascii"),
        pytest.param("correct horse battery staple", None, id="no-email"),
    ],
)
def test_accepted(password: str, email: str | None) -> None:
    assert MIN_LENGTH <= len(password) <= MAX_LENGTH
    assert password_problem(password, email) is None


def test_lengths_are_counted_in_characters_not_bytes() -> None:
    assert password_problem("ééééüüüüaaßß", EMAIL) is None  # 12 characters, 22 bytes in UTF-8
    assert password_problem("ééééüüüüaaß", EMAIL) == TOO_SHORT


def test_the_common_list_is_loaded_lower_cased_and_large() -> None:
    common = common_passwords()
    assert len(common) > 5000
    assert "password" in common
    assert all(entry == entry.lower() and entry.strip() == entry for entry in common)
