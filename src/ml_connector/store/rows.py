"""Conversions between table rows and the store's value objects."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.engine import RowMapping

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


def connection_values(config: ConnectionConfig, vault: Vault) -> dict[str, object]:
    return {
        "name": config.name,
        "cin7_base_url": config.cin7_base_url,
        "cin7_account_id": config.cin7_account_id,
        "cin7_application_key_enc": vault.encrypt(_plain(config.cin7_application_key)),
        "qad_base_url": config.qad_base_url,
        "qad_client_id": config.qad_client_id,
        "qad_username": config.qad_username,
        "qad_password_enc": vault.encrypt(_plain(config.qad_password)),
        "qad_domain": config.qad_domain,
        "qad_entity": config.qad_entity,
        "qad_site": config.qad_site,
        "qad_supplier_shared_set": config.qad_supplier_shared_set,
        "qad_daybook": config.qad_daybook,
        "allow_local": config.allow_local,
        "schedule": config.schedule,
        "options": dict(config.options),
    }


def _plain(secret: SecretStr | str) -> str:
    # model_copy(update=...) skips validation, so a plain str may arrive where SecretStr is typed.
    return secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)


def connection_from_row(row: RowMapping, vault: Vault) -> ConnectionConfig:
    return ConnectionConfig(
        id=row["id"],
        name=row["name"],
        cin7_base_url=row["cin7_base_url"],
        cin7_account_id=row["cin7_account_id"],
        cin7_application_key=SecretStr(vault.decrypt(row["cin7_application_key_enc"])),
        qad_base_url=row["qad_base_url"],
        qad_client_id=row["qad_client_id"],
        qad_username=row["qad_username"],
        qad_password=SecretStr(vault.decrypt(row["qad_password_enc"])),
        qad_domain=row["qad_domain"],
        qad_entity=row["qad_entity"],
        qad_site=row["qad_site"],
        qad_supplier_shared_set=row["qad_supplier_shared_set"],
        qad_daybook=row["qad_daybook"],
        allow_local=row["allow_local"],
        schedule=row["schedule"],
        options=row["options"] or {},
        created_at=row["created_at"],
        healthy=row["healthy"],
        health_message=row["health_message"],
        health_checked_at=row["health_checked_at"],
    )


def cursor_from_row(row: RowMapping) -> Cursor:
    return Cursor(
        stream=row["stream"],
        value=row["value"],
        value_at=row["value_at"],
        updated_at=row["updated_at"],
    )


def snapshot_from_row(row: RowMapping) -> Snapshot:
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


def record_from_row(row: RowMapping) -> Record:
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


def posting_from_row(row: RowMapping) -> Posting:
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


def mapping_from_row(row: RowMapping) -> Mapping:
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


def audit_from_row(row: RowMapping) -> AuditEvent:
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
    )


def run_from_row(row: RowMapping) -> Run:
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
