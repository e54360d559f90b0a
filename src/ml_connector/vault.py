"""Credentials encrypted at rest with a master key (Fernet, AES-128-CBC + HMAC-SHA256).

The master key comes from ``ML_CONNECTOR_MASTER_KEY`` (one key, or several separated by commas,
newest first) or from the key file ``<home>/master.key`` (one key per line, newest first), which
is created with mode 0600 on first use, inside a home folder created with mode 0700. The
environment variable wins when both exist.

Rotation (:meth:`Vault.rotate`) and why it survives a crash at any point:

1. A new key is generated. With a key file, the file is atomically replaced by one holding the
   new key *and* every old key (write a temporary file, fsync, rename, fsync the folder).
2. Every stored secret is re-encrypted under the new key in one database transaction.
3. Only after that transaction committed is the key file atomically replaced by the new key alone.

A crash before step 2 commits leaves the database under the old key and a file that still holds
it; a crash between 2 and 3 leaves the database under the new key and a file holding both. Either
way every stored secret stays readable, and the next rotation drops the leftover key. If the
commit itself fails with an unknown outcome the file keeps both keys for the same reason.
Other processes pick up the new file by themselves (before encrypting, and when a token does not
open). One narrow race remains: a connection saved elsewhere with a token made just before step 1
and committed after step 2. Rotate while nobody is adding or editing connections.

With the key in the environment nothing is written to disk: the new key is returned for the
operator to set (pass ``new_key=`` to show it *before* the database changes, so it cannot be
lost to a crash), and this process keeps the old key as a fallback until it exits.
"""

from __future__ import annotations

import base64
import contextlib
import os
import stat
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from ml_connector.errors import ConfigError
from ml_connector.settings import AppSettings, ensure_home

__all__ = ["KeySource", "RotationResult", "SecretHolder", "Vault"]

KeySource = Literal["env", "file", "memory"]


class SecretHolder(Protocol):
    """What :meth:`Vault.rotate` needs: re-encrypt every stored secret in one transaction."""

    def reencrypt_secrets(self, transform: Callable[[str], str]) -> Awaitable[int]: ...


@dataclass(frozen=True)
class RotationResult:
    """Outcome of a key rotation. ``new_key`` is for the operator when the key lives in the env."""

    reencrypted: int
    new_key: SecretStr
    key_file: Path | None


class Vault:
    """Encrypts and decrypts credential strings with the master key(s).

    >>> vault = Vault.ephemeral()
    >>> vault.decrypt(vault.encrypt("s3cret"))
    's3cret'

    ``encrypt`` always uses the newest key; ``decrypt`` accepts any key the vault holds. A token no
    key can open raises :class:`~ml_connector.errors.ConfigError` (wrong or rotated master key),
    never one that includes the token or the key.
    """

    def __init__(
        self, keys: Sequence[str | bytes], *, source: KeySource, key_file: Path | None = None
    ) -> None:
        if not keys:
            raise ConfigError("the vault needs at least one master key")
        self._source: KeySource = source
        self._key_file = key_file
        self._file_stamp = _stamp(key_file) if key_file is not None else None
        self._set_keys([_as_bytes(key) for key in keys])

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: AppSettings) -> Vault:
        """The vault for these settings: the env key if set, else the key file (made if absent)."""
        if settings.master_key is not None:
            keys = _parse_keys(settings.master_key.get_secret_value(), "ML_CONNECTOR_MASTER_KEY")
            return cls(keys, source="env")
        return cls.from_key_file(settings.key_file)

    @classmethod
    def from_key_file(cls, path: Path) -> Vault:
        """Load the key file, creating its folder (0700) and the file (0600) on first use."""
        ensure_home(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(Fernet.generate_key().decode("ascii") + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            _fsync_dir(path.parent)
        return cls(_read_key_file(path), source="file", key_file=path)

    @classmethod
    def ephemeral(cls) -> Vault:
        """A vault with a fresh in-memory key, for tests and throwaway demos."""
        return cls([Fernet.generate_key()], source="memory")

    @staticmethod
    def generate_key() -> str:
        """A new random master key (url-safe base64, 32 bytes)."""
        return Fernet.generate_key().decode("ascii")

    # --- use ----------------------------------------------------------------------------------

    @property
    def source(self) -> KeySource:
        return self._source

    @property
    def key_file(self) -> Path | None:
        return self._key_file

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext`` under the newest key; the token is ASCII.

        With a key file, a file replaced since it was read (a rotation by another process) is
        read again first, so new tokens never use a key that rotation is about to drop.
        """
        self._follow_file()
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def derive(self, purpose: bytes) -> bytes:
        """32 bytes derived from the newest master key for one ``purpose`` (HKDF-SHA256).

        Keys for different purposes are independent: knowing one tells nothing of the master
        key or of another. The key file is followed as in :meth:`encrypt`.

        >>> vault = Vault.ephemeral()
        >>> vault.derive(b"a") == vault.derive(b"a") != vault.derive(b"b")
        True
        """
        self._follow_file()
        derived = self._derived.get(purpose)
        if derived is None:  # each audit append asks: derived once per master key and purpose
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
            derived = self._derived[purpose] = hkdf.derive(base64.urlsafe_b64decode(self._keys[0]))
        return derived

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by :meth:`encrypt` with any key this vault holds.

        When the key lives in a file and no key fits, the file is read again once, because
        another process may have rotated the key since this vault was loaded.
        """
        try:
            return self._open(token)
        except InvalidToken:
            if self._source == "file" and self._key_file is not None:
                with contextlib.suppress(ConfigError, OSError):
                    self._file_stamp = _stamp(self._key_file)
                    self._set_keys(_read_key_file(self._key_file))
                with contextlib.suppress(InvalidToken):
                    return self._open(token)
        raise ConfigError(
            "stored credentials cannot be decrypted with the current master key "
            "(was ML_CONNECTOR_MASTER_KEY or the key file changed?)"
        ) from None

    def rotate_token(self, token: str) -> str:
        """Re-encrypt one token under the newest key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise ConfigError(
                "a stored credential cannot be decrypted with the current master key; "
                "rotation stopped before changing anything"
            ) from None

    async def rotate(self, store: SecretHolder, *, new_key: str | None = None) -> RotationResult:
        """Generate a new master key and re-encrypt every stored secret under it.

        See the module docstring for the order of steps and crash safety. ``new_key`` lets the
        caller choose (and show) the key first; otherwise one is generated. The result carries
        the new key, which the operator must put into ``ML_CONNECTOR_MASTER_KEY`` when the vault's
        key comes from the environment; in that case no file is ever written.
        """
        key = _as_bytes(new_key) if new_key is not None else Fernet.generate_key()
        _check_key(key, "the new master key")
        old = [k for k in self._keys if k != key]
        if self._source == "file":
            if self._key_file is None:  # pragma: no cover - guarded by the constructor paths
                raise ConfigError("file vault without a key file")
            _write_keys_atomically(self._key_file, [key, *old])
            self._file_stamp = _stamp(self._key_file)
        self._set_keys([key, *old])
        count = await store.reencrypt_secrets(self.rotate_token)
        if self._source == "file" and self._key_file is not None:
            _write_keys_atomically(self._key_file, [key])
            self._file_stamp = _stamp(self._key_file)
            self._set_keys([key])
        return RotationResult(
            reencrypted=count,
            new_key=SecretStr(key.decode("ascii")),
            key_file=self._key_file if self._source == "file" else None,
        )

    def __repr__(self) -> str:
        where = f", key_file={str(self._key_file)!r}" if self._key_file else ""
        return f"Vault(source={self._source!r}, keys={len(self._keys)}{where})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Vault holds key material and cannot be pickled")

    # --- internals ----------------------------------------------------------------------------

    def _follow_file(self) -> None:
        if self._source == "file" and self._key_file is not None:
            stamp = _stamp(self._key_file)
            if stamp != self._file_stamp:
                self._set_keys(_read_key_file(self._key_file))
                self._file_stamp = stamp

    def _set_keys(self, keys: list[bytes]) -> None:
        for key in keys:
            _check_key(key, "a master key")
        self._keys = keys
        self._multi = MultiFernet([Fernet(key) for key in keys])
        self._derived: dict[bytes, bytes] = {}

    def _open(self, token: str) -> str:
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidToken from None
        return self._multi.decrypt(raw).decode("utf-8")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _as_bytes(key: str | bytes) -> bytes:
    return key.encode("ascii", errors="replace") if isinstance(key, str) else key


def _check_key(key: bytes, what: str) -> None:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{what} is not a valid Fernet key "
            "(32 random bytes in url-safe base64, as made by Vault.generate_key())"
        ) from None


def _parse_keys(text: str, where: str) -> list[bytes]:
    keys = [
        part.strip().encode("ascii", errors="replace")
        for part in text.replace("\n", ",").split(",")
    ]
    keys = [key for key in keys if key]
    if not keys:
        raise ConfigError(f"{where} holds no key")
    for key in keys:
        _check_key(key, f"a key in {where}")
    return keys


def _read_key_file(path: Path) -> list[bytes]:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the key file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`"
        )
    return _parse_keys(path.read_text(encoding="ascii", errors="replace"), str(path))


def _write_keys_atomically(path: Path, keys: list[bytes]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(key + b"\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
