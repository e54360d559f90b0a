"""Connections on SQL: each Cin7 account and QAD tenant pair, secrets Fernet-encrypted.

A connection row is turned into a :class:`~ml_connector.store.models.ConnectionConfig` and back
in one place, :func:`~ml_connector.store.rows.connection_values` and
:func:`~ml_connector.store.rows.connection_from_row`. Adding a connection also starts its
audit chain (``audit_heads``); removing one deletes everything recorded for it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import ConfigError
from ml_connector.store import tables as t
from ml_connector.store.audit import GENESIS
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.rows import connection_from_row, connection_values
from ml_connector.store.sql.base import SqlBase, fetch_all, fetch_one

__all__ = ["SqlConnections"]


class SqlConnections(SqlBase):
    """:class:`~ml_connector.store.protocols.Connections` and ``Health`` on SQL."""

    async def add_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Store a new connection, encrypting its secrets; the name must be new."""
        vault = self._need_vault()
        now = self._clock()
        values = connection_values(config, vault)
        async with self._session() as c:
            exists = await c.scalar(
                select(t.connections.c.id).where(t.connections.c.name == config.name)
            )
            if exists is not None:
                raise ConfigError(f"a connection named {config.name!r} already exists")
            new_id = await c.scalar(
                t.connections.insert()
                .values(**values, healthy=True, created_at=now, updated_at=now)
                .returning(t.connections.c.id)
            )
            await c.execute(
                t.audit_heads.insert().values(connection_id=new_id, last_hash=GENESIS, count=0)
            )
            row = await self._connection_row(c, t.connections.c.id == new_id)
        assert row is not None
        return connection_from_row(row, vault)

    async def update_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Replace the settings and secrets of the connection named ``config.name``."""
        vault = self._need_vault()
        values = connection_values(config, vault)
        async with self._session() as c:
            cid = await self._require_connection_id(c, config.name)
            await c.execute(
                update(t.connections)
                .where(t.connections.c.id == cid)
                .values(**values, updated_at=self._clock())
            )
            row = await self._connection_row(c, t.connections.c.id == cid)
        self._secret_cache.pop(cid, None)
        assert row is not None
        return connection_from_row(row, vault)

    async def get_connection(self, name: str) -> ConnectionConfig:
        """The connection named ``name`` with decrypted secrets; ConfigError if there is none."""
        found = await self.find_connection(name)
        if found is None:
            raise ConfigError(f"no connection named {name!r}")
        return found

    async def find_connection(self, name: str) -> ConnectionConfig | None:
        """The connection named ``name``, or None."""
        vault = self._need_vault()
        async with self._session(write=False) as c:
            row = await self._connection_row(c, t.connections.c.name == name)
        return None if row is None else connection_from_row(row, vault)

    async def get_connection_by_id(self, connection_id: int) -> ConnectionConfig:
        vault = self._need_vault()
        async with self._session(write=False) as c:
            row = await self._connection_row(c, t.connections.c.id == connection_id)
        if row is None:
            raise ConfigError(f"no connection with id {connection_id}")
        return connection_from_row(row, vault)

    async def connection_id(self, name: str) -> int:
        """The id of the connection named ``name`` (no secrets decrypted); ConfigError if none."""
        async with self._session(write=False) as c:
            return await self._require_connection_id(c, name)

    async def list_connections(self) -> list[ConnectionConfig]:
        """All connections by name, with decrypted secrets."""
        vault = self._need_vault()
        async with self._session(write=False) as c:
            rows = await fetch_all(c, select(t.connections).order_by(t.connections.c.name))
        return [connection_from_row(row, vault) for row in rows]

    async def remove_connection(self, name: str) -> bool:
        """Delete a connection and everything recorded for it (audit trail included)."""
        async with self._session() as c:
            cid = await c.scalar(select(t.connections.c.id).where(t.connections.c.name == name))
            if cid is None:
                return False
            await c.execute(delete(t.connections).where(t.connections.c.id == cid))
        self._secret_cache.pop(cid, None)
        return True

    async def set_health(
        self, connection_id: int, healthy: bool, message: str | None = None
    ) -> None:
        """Mark a connection healthy or not, with a reason a person can act on."""
        clean = await self._scrub_text(connection_id, message)
        async with self._session() as c:
            await c.execute(
                update(t.connections)
                .where(t.connections.c.id == connection_id)
                .values(healthy=healthy, health_message=clean, health_checked_at=self._clock())
            )

    async def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        """Apply ``transform`` to every stored secret token in one transaction; return the count.

        Used by :meth:`ml_connector.vault.Vault.rotate`: connection secrets, alert destinations
        and the audit keys alike; nothing is written unless every token was transformed.
        """
        enc = [t.connections.c[name] for name in t.ENCRYPTED_COLUMNS]
        count = 0
        async with self.transaction(), self._session() as c:
            rows = await fetch_all(
                c, select(t.connections.c.id, *enc).order_by(t.connections.c.id).with_for_update()
            )
            changes: list[tuple[int, dict[str, str]]] = []
            for row in rows:
                new = {name: transform(row[name]) for name in t.ENCRYPTED_COLUMNS if row[name]}
                count += len(new)
                changes.append((row["id"], new))
            for cid, new in changes:
                await c.execute(
                    update(t.connections).where(t.connections.c.id == cid).values(**new)
                )
            alerts = await fetch_all(
                c,
                select(t.alert_rules.c.id, t.alert_rules.c.target_enc)
                .order_by(t.alert_rules.c.id)
                .with_for_update(),
            )
            rotated = [(row["id"], transform(row["target_enc"])) for row in alerts]
            count += len(rotated)
            for rule_id, token in rotated:
                await c.execute(
                    update(t.alert_rules)
                    .where(t.alert_rules.c.id == rule_id)
                    .values(target_enc=token)
                )
            k = t.audit_keys.c
            keys = await fetch_all(
                c, select(k.version, k.key_enc).order_by(k.version).with_for_update()
            )
            rewrapped = [(row["version"], transform(row["key_enc"])) for row in keys]
            count += len(rewrapped)
            for version, token in rewrapped:
                await c.execute(
                    update(t.audit_keys).where(k.version == version).values(key_enc=token)
                )
        self._secret_cache.clear()
        return count

    async def _connection_row(
        self, c: AsyncConnection, where: ColumnElement[bool]
    ) -> RowMapping | None:
        return await fetch_one(c, select(t.connections).where(where))

    async def _require_connection_id(self, c: AsyncConnection, name: str) -> int:
        cid = await c.scalar(select(t.connections.c.id).where(t.connections.c.name == name))
        if cid is None:
            raise ConfigError(f"no connection named {name!r}")
        return int(cid)
