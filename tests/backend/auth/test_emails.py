"""Emails and display names: one key per address however it is spelt in Unicode, look-alikes and invisibles refused."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.auth.emails import display_name_problem, email_key, email_problem, normal_form, script_of
from tests.backend.auth.helpers import PASSWORD, Instance, assert_problem, field_errors

# Spellings of one address that must share one key (and so one account).
SAME_ADDRESS = [
    ("jos\u00e9@example.org", "jose\u0301@example.org"),  # precomposed vs e + combining acute
    ("admin@example.org", "\uff41\uff44\uff4d\uff49\uff4e@example.org"),  # fullwidth
    ("admin@example.org", "ADMIN@EXAMPLE.ORG"),
    ("admin@example.org", "  Admin@Example.org  "),
    ("strasse@example.org", "STRA\u00dfE@example.org"),  # casefold: sharp s is ss
    ("\u0434\u0438\u043c\u0430@example.org", "\u0414\u0418\u041c\u0410@example.org"),  # Cyrillic, both cases
    ("ma\u00f1ana@example.org", "man\u0303ana@example.org"),
    ("office@example.org", "o\ufb03ce@example.org"),  # the ffi ligature
]

# Addresses refused, each for its look-alike or invisible character.
REFUSED_EMAILS = {
    "nul": "ad\x00min@example.org",
    "esc": "admin\x1b[31m@example.org",
    "delete": "admin\x7f@example.org",
    "zero-width-space": "ad\u200bmin@example.org",
    "zero-width-joiner": "ad\u200dmin@example.org",
    "zero-width-non-joiner": "ad\u200cmin@example.org",
    "word-joiner": "ad\u2060min@example.org",
    "byte-order-mark": "\ufeffadmin@example.org",
    "soft-hyphen": "ad\u00admin@example.org",
    "bidi-override-rtl": "\u202eadmin@example.org",
    "bidi-isolate": "admin\u2066@example.org",
    "right-to-left-mark": "admin@\u200fexample.org",
    "cyrillic-a-in-latin-local": "\u0430dmin@example.org",
    "cyrillic-o-in-latin-domain": "admin@exampl\u0435.\u043erg",
    "greek-omicron-in-latin": "g\u03bfogle@example.org",
    "latin-in-cyrillic": "\u0434\u0438ma@example.org",
    "unassigned": "ad\u0378min@example.org",
    "private-use": "ad\ue000min@example.org",
    "tag-character": "admin\U000e0041@example.org",
    "line-separator": "ad\u2028min@example.org",
    "no-at": "admin.example.org",
    "space": "ad min@example.org",
    "fullwidth-space": "ad\u3000min@example.org",  # NFKC makes it a space
}

ACCEPTED_EMAILS = [
    "jos\u00e9@example.org",
    "\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",  # all Cyrillic
    "\u7528\u6237@\u4f8b\u5b50.\u4e2d\u56fd",  # Han
    "\u305f\u306a\u304b\u592a\u90ce@example.jp",  # Hiragana with Han: written together
    "\u30c7\u30fc\u30bf@example.jp",  # Katakana with the prolonged sound mark
    "user+tag@example.org",
    "o'brien@example.ie",
    "first.last@sub.example.co.uk",
    "\u03b1\u03b2\u03b3@example.gr",
]

REFUSED_DISPLAY_NAMES = {
    "esc": "Mallory\x1b[2J",
    "newline": "Mal\nlory",
    "nul": "Mal\x00lory",
    "bidi-override": "Mallory \u202egnp.exe",
    "zero-width": "Mal\u200blory",
    "unassigned": "Mal\u0378lory",
    "blank": "   ",
}


@pytest.mark.parametrize(("one", "other"), SAME_ADDRESS)
def test_spellings_of_one_address_share_one_key(one: str, other: str) -> None:
    assert email_problem(one) is None
    assert email_problem(other) is None
    assert email_key(one) == email_key(other)


@pytest.mark.parametrize("email", list(REFUSED_EMAILS.values()), ids=list(REFUSED_EMAILS))
def test_look_alike_and_invisible_characters_are_refused(email: str) -> None:
    assert email_problem(email) is not None


@pytest.mark.parametrize("email", ACCEPTED_EMAILS)
def test_addresses_in_one_script_are_accepted(email: str) -> None:
    assert email_problem(email) is None, email_problem(email)


@pytest.mark.parametrize("name", list(REFUSED_DISPLAY_NAMES.values()), ids=list(REFUSED_DISPLAY_NAMES))
def test_display_names_with_control_or_invisible_characters_are_refused(name: str) -> None:
    assert display_name_problem(name) is not None


def test_display_names_keep_their_script_and_are_stored_in_nfkc() -> None:
    assert display_name_problem("Jos\u00e9 \u0418\u0432\u0430\u043d\u043e\u0432 \u7530\u4e2d") is None
    assert normal_form("Jose\u0301 \uff21") == "Jos\u00e9 A"


def test_scripts_are_named_from_letters_only() -> None:
    assert script_of("a") == "Latin"
    assert script_of("\u0430") == "Cyrillic"
    assert script_of("\u4e2d") == "Han"
    assert script_of("1") is None
    assert script_of("-") is None


@given(st.text(max_size=40))
def test_the_key_is_stable_and_blind_to_unicode_normal_forms(text: str) -> None:
    key = email_key(text)
    assert email_key(key) == key
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert email_key(unicodedata.normalize(form, text)) == key


@given(
    st.sampled_from(ACCEPTED_EMAILS),
    st.characters(categories=["Cc", "Cf", "Co", "Zl", "Zp"]),
    st.integers(min_value=0, max_value=60),
)
def test_any_control_or_invisible_character_anywhere_is_refused(email: str, char: str, where: int) -> None:
    where %= len(email) + 1
    assert email_problem(email[:where] + char + email[where:]) is not None


@given(st.text(max_size=30))
def test_an_accepted_address_holds_no_control_or_invisible_character(local: str) -> None:
    email = f"{local}@example.org"
    if email_problem(email) is None:
        assert not any(unicodedata.category(char)[0] == "C" for char in normal_form(email))


# Over the API: the same rules at creation, change and sign-in.


def unique(local: str) -> str:
    return f"{local}.{uuid.uuid4().hex[:6]}@example.org"


def test_a_second_spelling_of_an_address_is_taken(shared: Instance) -> None:
    suffix = uuid.uuid4().hex[:6]
    shared.create_user(f"jos\u00e9.{suffix}@example.org")
    for other in (
        f"jose\u0301.{suffix}@example.org",
        f"JOS\u00c9.{suffix}@EXAMPLE.ORG",
        f"\uff4aos\u00e9.{suffix}@example.org",
    ):
        response = shared.client.post(
            "/api/v1/users", json={"email": other, "password": PASSWORD}, headers=shared.admin
        )
        assert "email" in field_errors(assert_problem(response, 409)), other


def test_sign_in_finds_the_account_under_any_spelling(shared: Instance) -> None:
    suffix = uuid.uuid4().hex[:6]
    user_id = shared.create_user(f"jose\u0301.{suffix}@example.org")
    view = shared.client.get(f"/api/v1/users/{user_id}", headers=shared.admin).json()
    assert view["email"] == f"jos\u00e9.{suffix}@example.org"  # stored in NFKC
    for spelling in (f"jos\u00e9.{suffix}@example.org", f"\uff2aOSE\u0301.{suffix}@example.org"):
        assert shared.login(spelling)["access_token"]


def test_searching_users_finds_them_under_any_spelling(shared: Instance) -> None:
    suffix = uuid.uuid4().hex[:6]
    user_id = shared.create_user(f"jos\u00e9.{suffix}@example.org")
    for spelling in (f"JOS\u00c9.{suffix}", f"jose\u0301.{suffix}", f"\uff4aos\u00e9.{suffix}"):
        found = shared.client.get("/api/v1/users", params={"q": spelling}, headers=shared.admin)
        assert found.status_code == 200, found.text
        assert [user["id"] for user in found.json()["items"]] == [user_id], spelling


@pytest.mark.parametrize(
    "email",
    [REFUSED_EMAILS[k] for k in ("nul", "esc", "zero-width-space", "bidi-override-rtl", "cyrillic-a-in-latin-local")],
)
def test_refused_addresses_are_422_on_create_and_change(shared: Instance, email: str) -> None:
    created = shared.client.post("/api/v1/users", json={"email": email, "password": PASSWORD}, headers=shared.admin)
    assert "email" in field_errors(assert_problem(created, 422))
    user_id = shared.create_user(unique("plain"))
    changed = shared.client.patch(f"/api/v1/users/{user_id}", json={"email": email}, headers=shared.admin)
    assert "email" in field_errors(assert_problem(changed, 422))


@pytest.mark.parametrize("name", list(REFUSED_DISPLAY_NAMES.values()), ids=list(REFUSED_DISPLAY_NAMES))
def test_refused_display_names_are_422_on_change(shared: Instance, name: str) -> None:
    user_id = shared.create_user(unique("named"))
    changed = shared.client.patch(f"/api/v1/users/{user_id}", json={"display_name": name}, headers=shared.admin)
    assert "display_name" in field_errors(assert_problem(changed, 422))


def test_display_names_are_stored_in_nfkc(shared: Instance) -> None:
    response = shared.client.post(
        "/api/v1/users",
        json={"email": unique("nfkc"), "password": PASSWORD, "display_name": "  Jose\u0301 \uff21  "},
        headers=shared.admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["display_name"] == "Jos\u00e9 A"
