"""The audit trail in memory: the same keyed chain as on SQL, one head per connection.

Appends link with the audit key of the vault's master key and begin a key version as on SQL
(:mod:`ml_connector.store.audit_keys`); a legacy head is sealed first. Status events are
appended by the record verbs through :meth:`MemoryChain._chain_append`, inside their write.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ml_connector.errors import ConfigError
from ml_connector.store.audit import (
    GENESIS,
    LEGACY,
    ChainHead,
    clean_entry,
    link_rows,
    seal_entries,
)
from ml_connector.store.audit_keys import (
    LinkKey,
    StoredKey,
    checker,
    choose_key,
    current_key_id,
)
from ml_connector.store.memory.base import MemoryBase, Row
from ml_connector.store.models import AuditEvent, BrokenLink, TrailEntry
from ml_connector.store.protocols import PAGE
from ml_connector.store.rows import audit_from_row, record_from_row
from ml_connector.vocab import AuditEventKind

__all__ = ["MemoryChain", "MemoryTrail"]


class MemoryChain(MemoryBase):
    """The chain's writer and the audit keys, shared by the trail and the records verbs."""

    def _chain_append(self, connection_id: int, entries: Sequence[TrailEntry]) -> list[Row]:
        """Append ``entries`` (inside a write) and return their rows; see the SQL twin."""
        now = self._clock().astimezone(UTC)
        secrets = self._known_secrets(connection_id)
        clean = [clean_entry(entry, now, secrets) for entry in entries]
        head = self._tables["audit_heads"].get(connection_id)
        if head is None:
            raise ConfigError(f"no connection with id {connection_id}")
        if head["key_version"] == LEGACY and head["count"] > 0:
            legacy = ChainHead(int(head["count"]), head["last_hash"])
            records = sorted(
                self._rows("records", connection_id=connection_id), key=lambda row: row["id"]
            )
            sealed = seal_entries(legacy, (record_from_row(row) for row in records), now)
            clean = [*(clean_entry(entry, now, secrets) for entry in sealed), *clean]
        if not clean:
            return []
        key = self._link_key()
        last_seq: dict[str, int] = {}
        for row in self._rows("audit_events", connection_id=connection_id):
            last_seq[row["record_key"]] = max(last_seq.get(row["record_key"], 0), row["seq"])
        rows = [
            self._insert("audit_events", row)
            for row in link_rows(
                connection_id, head["last_hash"], key.key, key.version, clean, last_seq
            )
        ]
        self._put(
            "audit_heads",
            connection_id,
            {
                "last_hash": rows[-1]["hash"],
                "count": head["count"] + len(rows),
                "key_version": key.version,
            },
        )
        return rows[len(rows) - len(entries) :] if entries else []

    def _link_key(self) -> LinkKey:
        key_id = current_key_id(self._vault)
        stored = [_stored(row) for row in self._tables["audit_keys"].values()]
        newest = max(stored, key=lambda row: row.version, default=None)
        same = next((row for row in stored if row.key_id == key_id), None)
        new, key = choose_key(self._vault, newest, same)
        if new is not None:
            self._put(
                "audit_keys",
                new.version,
                {
                    "version": new.version,
                    "key_id": new.key_id,
                    "key_enc": new.key_enc,
                    "created_at": self._clock(),
                },
            )
        return key


class MemoryTrail(MemoryChain):
    """:class:`~ml_connector.store.protocols.TrailWrites` and ``TrailReads`` in memory."""

    async def append(
        self,
        connection_id: int,
        record_key: str,
        event: AuditEventKind,
        actor: str,
        data: Any = None,
        *,
        at: datetime | None = None,
    ) -> AuditEvent:
        [appended] = await self.append_many(
            connection_id, [TrailEntry(record_key, event, actor, data, at)]
        )
        return appended

    async def append_many(
        self, connection_id: int, entries: Sequence[TrailEntry]
    ) -> list[AuditEvent]:
        async with self._write("append_many"):
            rows = self._chain_append(connection_id, entries)
        return [audit_from_row(copy.deepcopy(row)) for row in rows]

    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        self._read("trail")
        rows = self._rows("audit_events", connection_id=connection_id, record_key=record_key)
        return [
            audit_from_row(copy.deepcopy(row)) for row in sorted(rows, key=lambda row: row["seq"])
        ]

    async def events(
        self, connection_id: int, *, after_id: int = 0, limit: int = PAGE
    ) -> list[AuditEvent]:
        self._read("events")
        rows = sorted(
            (
                row
                for row in self._rows("audit_events", connection_id=connection_id)
                if row["id"] > after_id
            ),
            key=lambda row: row["id"],
        )
        return [audit_from_row(copy.deepcopy(row)) for row in rows[:limit]]

    async def verify_record(self, connection_id: int, record_key: str) -> list[BrokenLink]:
        stored = [_stored(row) for row in self._tables["audit_keys"].values()]
        walk = checker(self._vault, stored, connection_id, whole_chain=False)
        walk.check(await self.trail(connection_id, record_key))
        return walk.problems

    async def head(self, connection_id: int) -> ChainHead:
        self._read("head")
        row = self._tables["audit_heads"].get(connection_id)
        if row is None:
            return ChainHead(0, GENESIS)
        return ChainHead(int(row["count"]), row["last_hash"])

    async def verify(
        self, connection_id: int, *, expect: ChainHead | None = None
    ) -> list[BrokenLink]:
        stored = [_stored(row) for row in self._tables["audit_keys"].values()]
        walk = checker(self._vault, stored, connection_id, expect=expect)
        walk.check(await self.events(connection_id, limit=len(self._tables["audit_events"])))
        row = self._tables["audit_heads"].get(connection_id)
        head = None if row is None else ChainHead(int(row["count"]), row["last_hash"])
        records = sorted(
            self._rows("records", connection_id=connection_id), key=lambda row: row["id"]
        )
        return walk.finish(head, (record_from_row(copy.deepcopy(r)) for r in records))


def _stored(row: Row) -> StoredKey:
    return StoredKey(int(row["version"]), str(row["key_id"]), str(row["key_enc"]))
