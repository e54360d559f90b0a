"""Console passwords: Argon2id hashes (argon2-cffi), a length policy, and nothing else.

Hashes are PHC strings (``$argon2id$v=19$m=65536,t=3,p=4$…``) carrying their own parameters, so
stronger parameters later still verify old hashes; :meth:`Passwords.needs_rehash` says when to
re-hash at the next sign-in. Hashing costs tens of milliseconds and 64 MiB on purpose: callers in
an event loop run it in a thread (the use cases do).

Verifying against an unknown user still runs one hash (:meth:`Passwords.verify_none`), so the
answer time does not tell which user names exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ml_connector.errors import ConfigError

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "Passwords", "check_policy"]

MIN_LENGTH = 8
MAX_LENGTH = 1024


def check_policy(password: str) -> None:
    """Refuse a password that is too short or too long (ConfigError; never echoes it)."""
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"the password is too short: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ConfigError(f"the password is too long: use at most {MAX_LENGTH} characters")


class Passwords:
    """Hash and verify with one :class:`argon2.PasswordHasher` (argon2-cffi's defaults).

    ``Passwords(time_cost=1, memory_cost=8)`` makes a cheap hasher for tests.
    """

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None) -> None:
        defaults = PasswordHasher()
        self._hasher = PasswordHasher(
            time_cost=time_cost or defaults.time_cost,
            memory_cost=memory_cost or defaults.memory_cost,
            parallelism=defaults.parallelism if memory_cost is None else 1,
        )
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        check_policy(password)
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False for a mismatch or an unreadable hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_none(self, password: str) -> bool:
        """Spend the time of one verification and answer False (for unknown users)."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("not a password anyone has")
        self.verify(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
