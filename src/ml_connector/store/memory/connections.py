"""Connections in memory: their settings, and their secrets kept encrypted with the vault."""

from __future__ import annotations

import copy
from collections.abc import Callable

from ml_connector.errors import ConfigError
from ml_connector.store.audit import GENESIS
from ml_connector.store.memory.base import OWNED_TABLES, MemoryBase, Row
from ml_connector.store.models import (
    ConnectionConfig,
)
from ml_connector.store.rows import (
    connection_from_row,
    connection_values,
)
from ml_connector.store.tables import ENCRYPTED_COLUMNS

__all__ = ["MemoryConnections"]


class MemoryConnections(MemoryBase):
    """:class:`~ml_connector.store.protocols.Connections` and ``Health`` in memory."""

    async def add_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        values = connection_values(config, self._vault)
        now = self._clock()
        async with self._write("add_connection"):
            if self._one("connections", name=config.name) is not None:
                raise ConfigError(f"a connection named {config.name!r} already exists")
            row = self._insert(
                "connections",
                {
                    **values,
                    "healthy": True,
                    "health_message": None,
                    "health_checked_at": None,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            self._put(
                "audit_heads", row["id"], {"last_hash": GENESIS, "count": 0, "key_version": 0}
            )
        return connection_from_row(copy.deepcopy(row), self._vault)

    async def update_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        values = connection_values(config, self._vault)
        async with self._write("update_connection"):
            row = self._named(config.name)
            row = self._update("connections", row, **values, updated_at=self._clock())
        return connection_from_row(copy.deepcopy(row), self._vault)

    async def get_connection(self, name: str) -> ConnectionConfig:
        found = await self.find_connection(name)
        if found is None:
            raise ConfigError(f"no connection named {name!r}")
        return found

    async def find_connection(self, name: str) -> ConnectionConfig | None:
        self._read("find_connection")
        row = self._one("connections", name=name)
        return None if row is None else connection_from_row(copy.deepcopy(row), self._vault)

    async def get_connection_by_id(self, connection_id: int) -> ConnectionConfig:
        self._read("get_connection_by_id")
        row = self._tables["connections"].get(connection_id)
        if row is None:
            raise ConfigError(f"no connection with id {connection_id}")
        return connection_from_row(copy.deepcopy(row), self._vault)

    async def connection_id(self, name: str) -> int:
        self._read("connection_id")
        return int(self._named(name)["id"])

    async def list_connections(self) -> list[ConnectionConfig]:
        self._read("list_connections")
        rows = sorted(self._rows("connections"), key=lambda row: row["name"])
        return [connection_from_row(copy.deepcopy(row), self._vault) for row in rows]

    async def remove_connection(self, name: str) -> bool:
        async with self._write("remove_connection"):
            row = self._one("connections", name=name)
            if row is None:
                return False
            cid = row["id"]
            self._drop_rules([r["id"] for r in self._rows("alert_rules", connection_id=cid)])
            for table in OWNED_TABLES:
                for key, owned in list(self._tables[table].items()):
                    if owned.get("connection_id") == cid:
                        self._drop(table, key)
            self._drop("audit_heads", cid)
            self._drop("connections", cid)
        return True

    async def set_health(
        self, connection_id: int, healthy: bool, message: str | None = None
    ) -> None:
        async with self._write("set_health"):
            row = self._tables["connections"].get(connection_id)
            if row is not None:
                self._update(
                    "connections",
                    row,
                    healthy=healthy,
                    health_message=self._scrub(connection_id, message),
                    health_checked_at=self._clock(),
                )

    async def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        async with self._write("reencrypt_secrets"):
            rows = sorted(self._rows("connections"), key=lambda row: row["id"])
            changes = [
                (row, {name: transform(row[name]) for name in ENCRYPTED_COLUMNS if row[name]})
                for row in rows
            ]
            rules = sorted(self._rows("alert_rules"), key=lambda row: row["id"])
            rotated = [(rule, transform(rule["target_enc"])) for rule in rules]
            keys = sorted(self._tables["audit_keys"].values(), key=lambda row: row["version"])
            rewrapped = [(row, transform(row["key_enc"])) for row in keys]
            for row, new in changes:
                self._update("connections", row, **new)
            for rule, token in rotated:
                self._update("alert_rules", rule, target_enc=token)
            for key, token in rewrapped:
                self._put("audit_keys", key["version"], {**key, "key_enc": token})
        return sum(len(new) for _row, new in changes) + len(rotated) + len(rewrapped)

    def _named(self, name: str) -> Row:
        row = self._one("connections", name=name)
        if row is None:
            raise ConfigError(f"no connection named {name!r}")
        return row
