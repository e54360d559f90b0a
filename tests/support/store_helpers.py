"""Builders shared by the store tests."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Table, delete, func, select, text, update

from ml_connector.store import ConnectionConfig, SqlStore
from ml_connector.store.tables import metadata
from ml_connector.testing import MemoryStore

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


class Backdoor(Protocol):
    """What a contract test does behind a store's back: raw SQL on a database, the dicts of a
    MemoryStore. Used to look at what is really kept, and to tamper with it."""

    async def count(self, table: str) -> int: ...

    async def values(self, table: str, column: str) -> list[Any]: ...

    async def update(self, table: str, row_id: int, **values: Any) -> None: ...

    async def delete(self, table: str, **where: Any) -> None: ...

    async def set_head(self, connection_id: int, count: int, link: str) -> None: ...


class SqlBackdoor:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def count(self, table: str) -> int:
        async with self.store.engine.begin() as conn:
            return int(await conn.scalar(select(func.count()).select_from(_table(table))) or 0)

    async def values(self, table: str, column: str) -> list[Any]:
        found = _table(table)
        async with self.store.engine.begin() as conn:
            return list((await conn.execute(select(found.c[column]))).scalars())

    async def update(self, table: str, row_id: int, **values: Any) -> None:
        found = _table(table)
        async with self.store.engine.begin() as conn:
            await conn.execute(update(found).where(found.c.id == row_id).values(**values))

    async def delete(self, table: str, **where: Any) -> None:
        found = _table(table)
        async with self.store.engine.begin() as conn:
            await conn.execute(delete(found).where(*(found.c[k] == v for k, v in where.items())))

    async def set_head(self, connection_id: int, count: int, link: str) -> None:
        heads = _table("audit_heads")
        async with self.store.engine.begin() as conn:
            await conn.execute(
                update(heads)
                .where(heads.c.connection_id == connection_id)
                .values(count=count, last_hash=link)
            )


class MemoryBackdoor:
    def __init__(self, store: MemoryStore) -> None:
        self.tables = store.raw_tables()

    async def count(self, table: str) -> int:
        return len(self.tables[table])

    async def values(self, table: str, column: str) -> list[Any]:
        return [row[column] for row in self.tables[table].values()]

    async def update(self, table: str, row_id: int, **values: Any) -> None:
        rows = self.tables[table]
        rows[row_id] = {**rows[row_id], **values}

    async def delete(self, table: str, **where: Any) -> None:
        rows = self.tables[table]
        for key in [k for k, row in rows.items() if all(row[c] == v for c, v in where.items())]:
            del rows[key]

    async def set_head(self, connection_id: int, count: int, link: str) -> None:
        heads = self.tables["audit_heads"]
        heads[connection_id] = {**heads[connection_id], "count": count, "last_hash": link}


def _table(name: str) -> Table:
    return metadata.tables[name]
