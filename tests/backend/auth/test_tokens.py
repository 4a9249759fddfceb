"""Access tokens: only an HS256 JWT of ours, unexpired, for a live session of an active user, lets one in."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from litestar.security.jwt import Token

from backend.auth.tokens import ALGORITHM, AUDIENCE, ISSUER, REQUIRED_CLAIMS
from tests.backend.auth.helpers import (
    PASSWORD,
    Instance,
    assert_problem,
    assert_unauthorized,
    b64url,
    bearer,
)

PROTECTED_PATHS = ["/api/v1/auth/me", "/api/v1/users"]


def _unsigned(instance: Instance) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(instance.claims()).encode())}."


def _rs256_header_hmac_signed(instance: Instance) -> str:
    # Algorithm confusion: an RS256 header over a signature made with the HMAC key (as if it were a public key).
    signing_input = (
        f"{b64url(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}."
        f"{b64url(json.dumps(instance.claims()).encode())}"
    )
    signature = hmac.new(instance.signing_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _payload_swapped(instance: Instance) -> str:
    # A genuine token whose payload was replaced, its signature kept.
    header, _payload, signature = instance.forge(instance.claims()).split(".")
    other = b64url(json.dumps(instance.claims(sub="someone-else", exp=2_000_000_000)).encode())
    return f"{header}.{other}.{signature}"


def _relative(seconds: int) -> int:
    return int(datetime.now(UTC).timestamp()) + seconds


FORGERIES: list[tuple[str, Callable[[Instance], str]]] = [
    ("alg-none", _unsigned),
    ("HS512-with-the-right-key", lambda i: i.forge(i.claims(), algorithm="HS512")),
    ("RS256-header-HMAC-signed", _rs256_header_hmac_signed),
    ("signed-with-another-key", lambda i: i.forge(i.claims(), key="another key " * 6)),
    ("payload-swapped", _payload_swapped),
    ("expired", lambda i: i.forge(i.claims(iat=_relative(-1000), exp=_relative(-60)))),
    ("nbf-in-the-future", lambda i: i.forge(i.claims(nbf=_relative(300)))),
    ("iat-in-the-future", lambda i: i.forge(i.claims(iat=_relative(300), exp=_relative(900)))),
    ("wrong-audience", lambda i: i.forge(i.claims(aud="another-api"))),
    ("audience-list", lambda i: i.forge(i.claims(aud=[AUDIENCE, "another-api"]))),
    ("wrong-issuer", lambda i: i.forge(i.claims(iss="someone-else"))),
    *[(f"no-{claim}", lambda i, claim=claim: i.forge(i.claims(**{claim: None}))) for claim in REQUIRED_CLAIMS],
    ("no-session-id", lambda i: i.forge(i.claims(sid=None))),
    ("unknown-subject", lambda i: i.forge(i.claims(sub="00000000-0000-0000-0000-000000000000"))),
    ("not-a-jwt", lambda i: "not.a.jwt"),
]


@pytest.mark.parametrize("path", PROTECTED_PATHS)
@pytest.mark.parametrize(("make_token"), [f for _, f in FORGERIES], ids=[name for name, _ in FORGERIES])
def test_forged_or_invalid_access_token_is_401(
    shared: Instance, make_token: Callable[[Instance], str], path: str
) -> None:
    response = shared.client.get(path, headers=bearer(make_token(shared)))
    body = assert_unauthorized(response)
    assert body["type"] == "urn:outpost:problem:unauthorized"
    assert "admin" not in response.text  # nothing about the would-be principal leaks


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic YWRtaW46cGFzc3dvcmQ=", "Token abc"],
    ids=["empty", "bearer-without-token", "bearer-blank", "basic", "other-scheme"],
)
def test_missing_or_foreign_authorization_is_401(shared: Instance, authorization: str) -> None:
    assert_unauthorized(shared.client.get("/api/v1/auth/me", headers={"Authorization": authorization}))


def test_no_credentials_at_all_is_401_with_a_challenge(shared: Instance) -> None:
    assert_unauthorized(shared.client.get("/api/v1/users"))


def test_correctly_made_token_is_accepted(shared: Instance) -> None:
    """The positive control of the forgeries: the same claims, our key and algorithm."""
    response = shared.me(bearer(shared.forge(shared.claims())))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == shared.admin_id
    assert shared.client.get("/api/v1/users", headers=bearer(shared.forge(shared.claims()))).status_code == 200


def test_token_made_with_litestar_token_and_the_app_key_is_accepted(shared: Instance) -> None:
    now = datetime.now(UTC)
    token = Token(
        sub=shared.admin_id,
        exp=now + timedelta(minutes=1),
        iat=now,
        iss=ISSUER,
        aud=AUDIENCE,
        jti="a-jti",
        extras={"sid": "a-session"},
    ).encode(shared.signing_key, ALGORITHM)
    assert shared.me(bearer(token)).json()["label"] == "admin@example.org"


def test_api_key_and_authorization_together_are_refused(shared: Instance) -> None:
    key = shared.create_api_key(shared.admin, ["system:read"])["key"]
    assert shared.client.get("/api/v1/system", headers={"X-API-Key": key}).status_code == 200
    assert shared.client.get("/api/v1/system", headers=shared.admin).status_code == 200
    both = shared.client.get("/api/v1/system", headers={**shared.admin, "X-API-Key": key})
    assert "one credential" in assert_unauthorized(both)["detail"]
    # A present but empty or garbled Authorization is a second credential too, not an absent one
    # (schemathesis' ignored-auth check sends a valid key beside an empty Authorization).
    for authorization in ("", " ", "Bearer", "Basic x"):
        beside = shared.client.get("/api/v1/system", headers={"X-API-Key": key, "Authorization": authorization})
        assert "one credential" in assert_unauthorized(beside)["detail"], repr(authorization)
    empty_key = shared.client.get("/api/v1/system", headers={**shared.admin, "X-API-Key": ""})
    assert "one credential" in assert_unauthorized(empty_key)["detail"]


def test_signed_out_access_token_is_refused_at_once(shared: Instance) -> None:
    person = shared.sign_in("signout@example.org", ["viewer"])
    assert shared.me(person.headers).status_code == 200
    assert shared.logout(person.headers).status_code == 204
    assert_unauthorized(shared.me(person.headers))
    # The jti is what was revoked: a second sign-in of the same person still works.
    again = shared.login(person.email)
    assert shared.me(bearer(again["access_token"])).status_code == 200


def test_disabled_user_is_refused_at_once_access_and_refresh(shared: Instance) -> None:
    person = shared.sign_in("disabled@example.org", ["viewer"])
    assert shared.me(person.headers).status_code == 200
    disabled = shared.client.patch(f"/api/v1/users/{person.id}", json={"is_active": False}, headers=shared.admin)
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    assert_unauthorized(shared.me(person.headers))
    assert_unauthorized(shared.refresh(person.refresh_token))
    login = shared.client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert_unauthorized(login)


def test_access_token_held_when_disabled_stays_dead_after_re_enabling(shared: Instance) -> None:
    person = shared.sign_in("revived@example.org", ["viewer"])
    user = f"/api/v1/users/{person.id}"
    assert shared.client.patch(user, json={"is_active": False}, headers=shared.admin).status_code == 200
    assert_unauthorized(shared.me(person.headers))
    assert shared.client.patch(user, json={"is_active": True}, headers=shared.admin).status_code == 200
    # "Disabling ends every session at once": the sessions' refresh tokens stay dead, and so must their access tokens.
    assert_unauthorized(shared.refresh(person.refresh_token))
    assert_unauthorized(shared.me(person.headers))


def test_token_issued_before_a_password_reset_is_refused(shared: Instance) -> None:
    person = shared.sign_in("reset@example.org", ["viewer"])
    shared.backdate_password_change(person.id, 60)  # created a minute ago, so a token can be 30 s old
    earlier = shared.forge(shared.claims(sub=person.id, iat=_relative(-30)))
    assert shared.me(bearer(earlier)).status_code == 200
    reset = shared.client.post(
        f"/api/v1/users/{person.id}/password", json={"password": "a brand new passphrase 9"}, headers=shared.admin
    )
    assert reset.status_code == 204
    assert_unauthorized(shared.me(bearer(earlier)))
    assert_unauthorized(shared.refresh(person.refresh_token))
    fresh_login = shared.login(person.email, "a brand new passphrase 9")
    assert shared.me(bearer(fresh_login["access_token"])).status_code == 200


def test_a_token_from_just_before_a_password_reset_is_refused_whatever_the_clock(shared: Instance) -> None:
    # Sign in and reset at once (usually within one second): the session is ended, not compared by time.
    person = shared.sign_in("samesecond@example.org", ["viewer"])
    reset = shared.client.post(
        f"/api/v1/users/{person.id}/password", json={"password": "a brand new passphrase 9"}, headers=shared.admin
    )
    assert reset.status_code == 204
    assert_unauthorized(shared.me(bearer(person.access_token)))


def test_unauthorized_reply_is_problem_json_with_a_request_id(shared: Instance) -> None:
    response = shared.client.get("/api/v1/auth/me", headers=bearer("x.y.z"))
    body = assert_problem(response, 401)
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == "/api/v1/auth/me"
