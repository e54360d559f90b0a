"""Conversions between table rows and the store's value objects, for every back-end.

A row is any mapping of column names to values: a SQLAlchemy ``RowMapping`` in the SQL store, a
dict in the memory store, so both hand out identical values. A connection goes into a row
through :func:`connection_values` (secrets encrypted) and comes back through
:func:`connection_from_row` (secrets decrypted): the only two places that know how a
:class:`~ml_connector.store.models.ConnectionConfig` is laid out in the ``connections`` table.
"""

from __future__ import annotations

import collections.abc
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

from pydantic import BaseModel, SecretStr, ValidationError

from ml_connector.connection import setting_name
from ml_connector.errors import ConfigError
from ml_connector.store.models import (
    AuditEvent,
    ConnectionConfig,
    Cursor,
    Mapping,
    Posting,
    Record,
    Run,
    Snapshot,
)
from ml_connector.vault import Vault

Row: TypeAlias = collections.abc.Mapping[Any, Any]

__all__ = [
    "audit_from_row",
    "connection_from_row",
    "connection_values",
    "cursor_from_row",
    "mapping_from_row",
    "posting_from_row",
    "record_from_row",
    "run_from_row",
    "snapshot_from_row",
]


# A setting's column, where it has one; every other setting is kept in `options` by its name.
_COLUMNS = {
    "cin7_account_id": "cin7_account_id",
    "cin7_base_url": "cin7_base_url",
    "qad_url": "qad_base_url",
    "qad_client_id": "qad_client_id",
    "qad_username": "qad_username",
    "qad_domain": "qad_domain",
    "qad_entity": "qad_entity",
    "qad_site": "qad_site",
    "qad_supplier_shared_set": "qad_supplier_shared_set",
    "qad_daybook": "qad_daybook",
    "allow_local": "allow_local",
    "schedule": "schedule",
}
_ENCRYPTED = {
    "cin7_application_key": "cin7_application_key_enc",
    "qad_password": "qad_password_enc",
}


def connection_values(config: ConnectionConfig, vault: Vault) -> dict[str, object]:
    """The row of a connection: settings with a column in it, secrets encrypted, and the other
    settings that differ from their defaults in ``options`` (JSON)."""
    flat = config.settings()
    values: dict[str, object] = {"name": config.name}
    values.update({column: flat[setting] for setting, column in _COLUMNS.items()})
    values.update(
        {column: vault.encrypt(_plain(flat[setting])) for setting, column in _ENCRYPTED.items()}
    )
    values["options"] = {
        setting: _json_ready(value)
        for setting, value in config.settings(changed_only=True).items()
        if setting not in _COLUMNS and setting not in _ENCRYPTED
    }
    return values


def _plain(secret: SecretStr | str) -> str:
    # model_copy(update=...) skips validation, so a plain str may arrive where SecretStr is typed.
    return secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)


def _json_ready(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def connection_from_row(row: Row, vault: Vault) -> ConnectionConfig:
    """The connection of a row, secrets decrypted; ConfigError when its stored settings are
    not ones this version understands."""
    settings: dict[str, Any] = {setting: row[column] for setting, column in _COLUMNS.items()}
    settings.update(
        {setting: SecretStr(vault.decrypt(row[column])) for setting, column in _ENCRYPTED.items()}
    )
    settings.update(row["options"] or {})
    try:
        return ConnectionConfig.from_settings(
            row["name"],
            {setting: value for setting, value in settings.items() if value is not None},
            id=row["id"],
            created_at=row["created_at"],
            healthy=row["healthy"],
            health_message=row["health_message"],
            health_checked_at=row["health_checked_at"],
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{setting_name(tuple(err['loc']))}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
    except ConfigError as exc:  # a setting this version has no name for
        problems = str(exc)
    raise ConfigError(
        f"connection {row['name']!r} has stored settings refused: {problems}"
    ) from None


def cursor_from_row(row: Row) -> Cursor:
    return Cursor(
        stream=row["stream"],
        value=row["value"],
        value_at=row["value_at"],
        updated_at=row["updated_at"],
    )


def snapshot_from_row(row: Row) -> Snapshot:
    return Snapshot(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        kind=row["kind"],
        cin7_id=row["cin7_id"],
        reference=row["reference"],
        version=row["version"],
        last_updated=row["last_updated"],
        hash=row["hash"],
        payload=row["payload"],
        fetched_at=row["fetched_at"],
    )


def record_from_row(row: Row) -> Record:
    return Record(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        kind=row["kind"],
        cin7_id=row["cin7_id"],
        reference=row["reference"],
        supplier_id=row["supplier_id"],
        status=row["status"],
        reason=row["reason"],
        latest_version=row["latest_version"],
        posted_version=row["posted_version"],
        month=row["month"],
        amounts=row["amounts"] or {},
        status_since=row["status_since"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def posting_from_row(row: Row) -> Posting:
    return Posting(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        record_id=None if row["record_id"] is None else int(row["record_id"]),
        natural_key=row["natural_key"],
        kind=row["kind"],
        qad_id=row["qad_id"],
        state=row["state"],
        details=row["details"] or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def mapping_from_row(row: Row) -> Mapping:
    return Mapping(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        kind=row["kind"],
        cin7_value=row["cin7_value"],
        qad_value=row["qad_value"],
        source=row["source"],
        confidence=float(row["confidence"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def audit_from_row(row: Row) -> AuditEvent:
    return AuditEvent(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        record_key=row["record_key"],
        seq=row["seq"],
        at=row["at"],
        event=row["event"],
        actor=row["actor"],
        data=row["data"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        key_version=int(row["key_version"]),
    )


def run_from_row(row: Row) -> Run:
    return Run(
        id=int(row["id"]),
        connection_id=row["connection_id"],
        kind=row["kind"],
        actor=row["actor"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        counters=row["counters"] or {},
        error=row["error"],
    )
