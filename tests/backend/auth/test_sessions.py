"""Sessions: sign-in, Argon2id hashes, refresh rotation with reuse detection, sign-out, password change, emails."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from argon2 import PasswordHasher as Argon2Hasher

from backend.auth import sessions
from backend.auth.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST
from backend.auth.tokens import ACCESS_TTL, ALGORITHM, AUDIENCE, ISSUER, REQUIRED_CLAIMS
from tests.backend.auth.helpers import (
    PASSWORD,
    Instance,
    assert_problem,
    assert_unauthorized,
    bearer,
    field_errors,
)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

TODAYS_PARAMETERS = f"$argon2id$v=19$m={MEMORY_COST_KIB},t={TIME_COST},p={PARALLELISM}$"


def test_login_returns_a_bearer_pair(fresh: Instance) -> None:
    tokens = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in", "device_token"}
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 900
    assert tokens["access_token"] != tokens["refresh_token"]
    assert len(tokens["refresh_token"]) >= 43  # 256 random bits, URL-safe


def test_access_token_is_a_short_lived_hs256_jwt_with_every_claim(fresh: Instance) -> None:
    token = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM
    claims = jwt.decode(token, fresh.signing_key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER)
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert {"sub", "iat", "exp", "jti", "iss", "aud"} <= set(claims)
    assert claims["sub"] == fresh.admin_id
    assert 0 < claims["exp"] - claims["iat"] <= min(900, ACCESS_TTL.total_seconds())


def test_each_login_gets_its_own_token_id(fresh: Instance) -> None:
    first = jwt.decode(fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"], options={"verify_signature": False})
    second = jwt.decode(fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"], options={"verify_signature": False})
    assert first["jti"] != second["jti"]
    assert first["extras"]["sid"] != second["extras"]["sid"]  # Litestar's Token keeps extra claims under "extras"


def test_unknown_email_and_wrong_password_get_the_same_reply(fresh: Instance) -> None:
    def attempt(email: str, password: str) -> dict[str, object]:
        response = fresh.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        body = assert_unauthorized(response)
        body.pop("request_id")
        body.pop("instance")
        return body

    unknown = attempt("nobody@example.org", ADMIN_PASSWORD)
    wrong = attempt(ADMIN_EMAIL, "not the admin password")
    assert unknown == wrong
    assert "email" in str(unknown["detail"]).lower()


def test_failed_logins_are_audited_without_the_password(fresh: Instance) -> None:
    fresh.client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": "guess one two three"})
    fresh.client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "guess one two three"})
    failures = [row for row in fresh.audit_rows("auth.login") if row["outcome"] == "failure"]
    assert [row["details"]["reason"] for row in failures] == ["wrong password", "unknown email"]
    assert all("guess" not in str(row) for row in failures)


def test_stored_hashes_are_argon2id(fresh: Instance) -> None:
    fresh.create_user("second@example.org", ["viewer"])
    hashes = [row[0] for row in fresh.sql("SELECT password_hash FROM users")]
    assert len(hashes) == 2
    for stored in hashes:
        assert stored.startswith(TODAYS_PARAMETERS), stored
        assert PASSWORD not in stored
        assert ADMIN_PASSWORD not in stored


def test_login_upgrades_a_hash_made_with_weaker_parameters(fresh: Instance) -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8192).hash(ADMIN_PASSWORD)
    assert "m=8192,t=1" in weak
    fresh.sql("UPDATE users SET password_hash = ? WHERE id = ?", (weak, fresh.admin_id))
    fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    [(stored,)] = fresh.sql("SELECT password_hash FROM users WHERE id = ?", (fresh.admin_id,))
    assert stored != weak
    assert stored.startswith(TODAYS_PARAMETERS)
    assert "$m=19456,t=2,p=1$" in stored  # OWASP's Argon2id baseline
    assert fresh.audit_rows("auth.login")[-1]["details"] == {"rehashed": True}
    fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)  # the new hash verifies
    assert fresh.sql("SELECT password_hash FROM users WHERE id = ?", (fresh.admin_id,))[0][0] == stored


def test_refresh_rotates_and_a_spent_token_within_grace_is_a_harmless_409(fresh: Instance) -> None:
    first = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    rotated = fresh.refresh(first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert fresh.me(bearer(second["access_token"])).status_code == 200
    # A racing twin presenting the spent token: told so, and the session lives on.
    assert assert_problem(fresh.refresh(first["refresh_token"]), 409)["type"] == "urn:outpost:problem:conflict"
    third = fresh.refresh(second["refresh_token"])
    assert third.status_code == 200, third.text
    assert fresh.audit_rows("auth.refresh_reuse") == []


def test_reuse_beyond_grace_ends_the_whole_session_and_is_audited(
    fresh: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "REUSE_GRACE", timedelta(0))
    first = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    other_session = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    second = fresh.refresh(first["refresh_token"]).json()
    third = fresh.refresh(second["refresh_token"]).json()
    assert_unauthorized(fresh.refresh(first["refresh_token"]))  # a stolen, spent token comes back
    assert_unauthorized(fresh.refresh(third["refresh_token"]))  # the newest token of that family is dead too
    [reuse] = fresh.audit_rows("auth.refresh_reuse")
    assert reuse["outcome"] == "failure"
    assert reuse["actor_label"] == ADMIN_EMAIL
    session_id = jwt.decode(first["access_token"], options={"verify_signature": False})["extras"]["sid"]
    assert reuse["target"] == f"session:{session_id}"
    # Only that session ends: another sign-in of the same person keeps working.
    assert fresh.refresh(other_session["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", ["", "x" * 201], ids=["empty", "too-long"])
def test_malformed_refresh_token_is_422(shared: Instance, token: str) -> None:
    assert field_errors(assert_problem(shared.refresh(token), 422)) == {"refresh_token"}


def test_made_up_refresh_token_is_401(shared: Instance) -> None:
    assert_unauthorized(shared.refresh("made-up-refresh-token"))


def test_expired_refresh_token_is_refused(fresh: Instance) -> None:
    tokens = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    fresh.sql("UPDATE refresh_tokens SET expires_at = '2000-01-01 00:00:00.000000'")
    assert_unauthorized(fresh.refresh(tokens["refresh_token"]))


def test_logout_ends_the_session_its_refresh_family_and_access_token(fresh: Instance) -> None:
    session = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    rotated = fresh.refresh(session["refresh_token"]).json()
    headers = bearer(rotated["access_token"])
    assert fresh.logout(headers).status_code == 204
    assert_unauthorized(fresh.me(headers))
    assert_unauthorized(fresh.refresh(rotated["refresh_token"]))
    assert_unauthorized(fresh.refresh(session["refresh_token"]))
    assert fresh.me(fresh.admin).status_code == 200  # the fixture's own session is another one
    [logout] = fresh.audit_rows("auth.logout")
    assert logout["actor_label"] == ADMIN_EMAIL
    # Signed out tokens stay out after a restart: their ids are kept in the database.
    assert fresh.sql("SELECT count(*) FROM revoked_access_tokens") == [(1,)]


def test_logout_without_a_body_signs_out(fresh: Instance) -> None:
    session = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    response = fresh.client.post("/api/v1/auth/logout", headers=bearer(session["access_token"]))
    assert response.status_code == 204, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"current_password": "not my password at all", "new_password": "a brand new passphrase 9"},
            "current_password",
        ),
        ({"current_password": ADMIN_PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": ADMIN_PASSWORD, "new_password": "password1234"}, "new_password"),
        ({"current_password": ADMIN_PASSWORD, "new_password": "admin's new secret!"}, "new_password"),
        ({"current_password": ADMIN_PASSWORD, "new_password": "abababababababab"}, "new_password"),
    ],
    ids=["wrong-current", "too-short", "common", "contains-email-local-part", "too-few-distinct"],
)
def test_password_change_refusals_name_the_field(fresh: Instance, body: dict[str, str], field: str) -> None:
    response = fresh.client.post("/api/v1/auth/me/password", json=body, headers=fresh.admin)
    assert field_errors(assert_problem(response, 422)) == {field}
    fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)  # unchanged


def test_password_change_gives_new_tokens_and_ends_every_old_session(fresh: Instance) -> None:
    old = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    change = {"current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase 9"}
    response = fresh.client.post("/api/v1/auth/me/password", json=change, headers=bearer(old["access_token"]))
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["token_type"] == "Bearer"
    assert new["refresh_token"] != old["refresh_token"]
    assert fresh.me(bearer(new["access_token"])).status_code == 200
    assert_unauthorized(fresh.refresh(old["refresh_token"]))
    assert fresh.refresh(new["refresh_token"]).status_code == 200
    assert_unauthorized(
        fresh.client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    )
    fresh.login(ADMIN_EMAIL, "a brand new passphrase 9")
    assert [row["actor_label"] for row in fresh.audit_rows("auth.change_password")] == [ADMIN_EMAIL]


@pytest.mark.parametrize("spelling", ["ADMIN@EXAMPLE.ORG", "Admin@Example.org", "  admin@example.org  "])
def test_login_email_ignores_case_and_surrounding_space(shared: Instance, spelling: str) -> None:
    tokens = shared.login(spelling, ADMIN_PASSWORD)
    assert shared.me(bearer(tokens["access_token"])).json()["id"] == shared.admin_id


@pytest.mark.parametrize("spelling", ["Admin@Example.org", "ADMIN@EXAMPLE.ORG", " admin@example.org"])
def test_email_is_unique_whatever_its_case(shared: Instance, spelling: str) -> None:
    response = shared.client.post(
        "/api/v1/users", json={"email": spelling, "password": PASSWORD, "roles": []}, headers=shared.admin
    )
    assert field_errors(assert_problem(response, 409)) == {"email"}
    assert shared.sql("SELECT count(*) FROM users WHERE email_key = 'admin@example.org'") == [(1,)]


def test_changing_an_email_to_another_users_in_other_case_is_409(fresh: Instance) -> None:
    other = fresh.create_user("other@example.org", ["viewer"])
    response = fresh.client.patch(f"/api/v1/users/{other}", json={"email": "ADMIN@example.org"}, headers=fresh.admin)
    assert field_errors(assert_problem(response, 409)) == {"email"}
