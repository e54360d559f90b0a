"""Argon2id hashing and the password policy."""

from __future__ import annotations

import pytest

from ml_connector.errors import ConfigError
from ml_connector.passwords import MIN_LENGTH, Passwords, check_policy

CHEAP = Passwords(time_cost=1, memory_cost=8)


def test_a_hash_is_an_argon2id_phc_string_that_verifies_only_its_password() -> None:
    hashed = CHEAP.hash("correct horse")

    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert CHEAP.verify(hashed, "correct horse")
    assert not CHEAP.verify(hashed, "correct horsE")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert CHEAP.hash("correct horse") != CHEAP.hash("correct horse")


def test_an_unreadable_hash_verifies_nothing_and_needs_a_rehash() -> None:
    assert not CHEAP.verify("not-a-hash", "anything goes")
    assert CHEAP.needs_rehash("not-a-hash")


def test_an_unknown_user_is_answered_after_a_real_verification() -> None:
    assert CHEAP.verify_none("anything goes") is False


def test_hashes_made_with_weaker_parameters_ask_to_be_rehashed() -> None:
    weak = CHEAP.hash("correct horse")
    strong = Passwords()
    assert strong.verify(weak, "correct horse")
    assert strong.needs_rehash(weak)
    assert not CHEAP.needs_rehash(weak)


@pytest.mark.parametrize("password", ["", "s3cr", "x" * (MIN_LENGTH - 1), "y" * 1025])
def test_too_short_or_too_long_passwords_are_refused_without_echoing_them(password: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_policy(password)
    if password:
        assert password not in str(refused.value)
    with pytest.raises(ConfigError):
        CHEAP.hash(password)
