"""The audit keys: derived from the master key, one version per master key, kept encrypted.

Why versions and when one begins is in :mod:`ml_connector.store.audit`. This module holds the
decisions both stores share, with no I/O: which key an append links with, whether this vault
may begin a new version, and which stored versions this vault can open. A key's material only
ever leaves as the HMAC key of a link; a stored version holds it encrypted by the vault
(``key_enc``), next to the key id that says which master key it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ml_connector.errors import ConfigError
from ml_connector.store.audit import KEY_ID_PURPOSE, LINK_PURPOSE, ChainHead
from ml_connector.store.audit_check import ChainChecker
from ml_connector.vault import Vault

__all__ = ["LinkKey", "StoredKey", "checker", "choose_key", "current_key_id", "open_keys"]


@dataclass(frozen=True, slots=True)
class StoredKey:
    """One row of ``audit_keys``: the version, the key id, the key encrypted by the vault."""

    version: int
    key_id: str
    key_enc: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class LinkKey:
    """The key an append links with, and its version."""

    version: int
    key: bytes = field(repr=False)


def current_key_id(vault: Vault) -> str:
    """Which master key is in force, as a value safe to store (not the key, nor the link key)."""
    return vault.derive(KEY_ID_PURPOSE).hex()


def choose_key(
    vault: Vault, newest: StoredKey | None, same_id: StoredKey | None
) -> tuple[StoredKey | None, LinkKey]:
    """The key an append links with: ``(version to store or None, key)``.

    ``newest`` is the newest stored version, ``same_id`` the stored version of this vault's
    master key, if any. Only the newest version links: a master key whose version was followed
    by another was rotated out (ConfigError). A master key with no version begins one, but only
    if the newest version's key opens with this vault: a vault that cannot open it does not hold
    the master key it would replace (a wrong key), and beginning a version with it would let
    anybody with a key of their own append links that verify.
    """
    key = vault.derive(LINK_PURPOSE)
    if same_id is not None:
        if newest is not None and newest.version != same_id.version:
            raise ConfigError(
                f"this master key was rotated out (audit key version {same_id.version}, newest "
                f"{newest.version}); use the current ML_CONNECTOR_MASTER_KEY or key file "
                "(nothing was appended)"
            )
        return None, LinkKey(same_id.version, key)
    if newest is not None:
        try:
            vault.decrypt(newest.key_enc)
        except ConfigError:
            raise ConfigError(
                f"the audit key (version {newest.version}) cannot be opened with this master "
                "key; check ML_CONNECTOR_MASTER_KEY or the key file (nothing was appended)"
            ) from None
    version = 1 if newest is None else newest.version + 1
    stored = StoredKey(version, current_key_id(vault), vault.encrypt(key.hex()))
    return stored, LinkKey(version, key)


def open_keys(vault: Vault | None, stored: Iterable[StoredKey]) -> dict[int, bytes]:
    """The key of every stored version this vault opens, by version (for verification)."""
    opened: dict[int, bytes] = {}
    if vault is None:
        return opened
    for row in stored:
        try:
            opened[row.version] = bytes.fromhex(vault.decrypt(row.key_enc))
        except (ConfigError, ValueError):
            continue
    return opened


def checker(
    vault: Vault | None,
    stored: Sequence[StoredKey],
    connection_id: int,
    *,
    expect: ChainHead | None = None,
    whole_chain: bool = True,
) -> ChainChecker:
    """A checker for one connection with every stored version this vault opens."""
    return ChainChecker(
        connection_id,
        open_keys(vault, stored),
        (key.version for key in stored),
        expect=expect,
        whole_chain=whole_chain,
    )
