"""Builders shared by the store tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ml_connector.store import ConnectionConfig, SqlStore

PLANTED = "PLANTED-SECRET-9f3b"


def make_config(name: str = "acme", **overrides: Any) -> ConnectionConfig:
    """A connection by flat settings (``qad_url``, ``schedule``...), overrides applied."""
    values: dict[str, Any] = {
        "cin7_account_id": "acc-1",
        "cin7_application_key": "app-key-0001",
        "qad_url": "https://qad.example.test/qad-central",
        "qad_client_id": "afb97fd2000000000000000000000000",
        "qad_username": "mfg@example.test",
        "qad_password": "qad-password-0001",
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
        "qad_site": "10-100",
    }
    values.update(overrides)
    return ConnectionConfig.from_settings(name, values)


async def raw(store: SqlStore, sql: str, **params: Any) -> list[Any]:
    """Run raw SQL outside the store's verbs (to tamper, or to look at what is really stored)."""
    async with store.engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return list(result) if result.returns_rows else []
