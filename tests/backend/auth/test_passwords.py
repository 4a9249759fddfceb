"""The Argon2 wrapper: Argon2id at our parameters, verification, rehash detection."""

from __future__ import annotations

from backend.auth.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST, PasswordHasher


def test_hash_is_argon2id_at_our_parameters() -> None:
    stored = PasswordHasher().hash("a long enough passphrase")
    assert stored.startswith(f"$argon2id$v=19$m={MEMORY_COST_KIB},t={TIME_COST},p={PARALLELISM}$")


def test_verify_accepts_the_password_and_nothing_else() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("a long enough passphrase")
    assert hasher.verify(stored, "a long enough passphrase") is True
    assert hasher.verify(stored, "a long enough passphrasE") is False
    assert hasher.verify("not a hash", "a long enough passphrase") is False


def test_salts_differ() -> None:
    hasher = PasswordHasher()
    assert hasher.hash("same password here") != hasher.hash("same password here")


def test_weaker_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost_kib=8192).hash("a long enough passphrase")
    hasher = PasswordHasher()
    assert hasher.verify(weak, "a long enough passphrase") is True
    assert hasher.needs_rehash(weak) is True
    assert hasher.needs_rehash(hasher.hash("a long enough passphrase")) is False
