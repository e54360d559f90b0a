"""What was read from Cin7, in memory: each stream's cursor and each document's versions."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ml_connector.store.memory.base import MemoryBase, Row, as_json
from ml_connector.store.models import (
    Cursor,
    Snapshot,
    Staged,
)
from ml_connector.store.rows import (
    cursor_from_row,
    snapshot_from_row,
)
from ml_connector.store.rules import (
    check,
    parse_cin7_timestamp,
    snapshot_hash,
)
from ml_connector.vocab import (
    RECORD_KINDS,
    STREAMS,
    RecordKind,
    Stream,
)

__all__ = ["MemoryCursors", "MemorySnapshots"]


class MemoryCursors(MemoryBase):
    """:class:`~ml_connector.store.protocols.Cursors` in memory."""

    async def get_cursor(self, connection_id: int, stream: Stream) -> Cursor | None:
        check(stream, STREAMS, "stream")
        self._read("get_cursor")
        row = self._tables["cursors"].get((connection_id, stream))
        return None if row is None else cursor_from_row(copy.deepcopy(row))

    async def set_cursor(
        self, connection_id: int, stream: Stream, value: str, value_at: datetime | None = None
    ) -> Cursor:
        check(stream, STREAMS, "stream")
        now = self._clock()
        at = value_at if value_at is not None else parse_cin7_timestamp(value)
        async with self._write("set_cursor"):
            self._owned(connection_id)
            row = {
                "connection_id": connection_id,
                "stream": stream,
                "value": value,
                "value_at": at,
                "updated_at": now,
            }
            self._put("cursors", (connection_id, stream), row)
        return cursor_from_row(row)

    async def reset_cursor(self, connection_id: int, stream: Stream | None = None) -> int:
        if stream is not None:
            check(stream, STREAMS, "stream")
        async with self._write("reset_cursor"):
            keys = [
                key
                for key, row in self._tables["cursors"].items()
                if row["connection_id"] == connection_id
                and (stream is None or row["stream"] == stream)
            ]
            for key in keys:
                self._drop("cursors", key)
        return len(keys)


class MemorySnapshots(MemoryBase):
    """:class:`~ml_connector.store.protocols.Snapshots` in memory."""

    async def stage_snapshot(
        self,
        connection_id: int,
        kind: RecordKind,
        cin7_id: str,
        reference: str,
        last_updated: str,
        payload: dict[str, Any],
        *,
        volatile: Sequence[str] = ("LastUpdatedDate",),
    ) -> Staged:
        check(kind, RECORD_KINDS, "kind")
        digest = snapshot_hash(payload, volatile)
        stored = as_json(payload)
        now = self._clock()
        async with self._write("stage_snapshot"):
            self._owned(connection_id)
            latest = self._latest(connection_id, kind, cin7_id)
            if latest is not None and latest["hash"] == digest:
                if latest["last_updated"] != last_updated:
                    self._update(
                        "snapshots",
                        latest,
                        last_updated=last_updated,
                        payload=stored,
                        reference=reference,
                        fetched_at=now,
                    )
                return Staged(version=int(latest["version"]), changed=False, hash=digest)
            version = 1 if latest is None else int(latest["version"]) + 1
            self._insert(
                "snapshots",
                {
                    "connection_id": connection_id,
                    "kind": kind,
                    "cin7_id": cin7_id,
                    "reference": reference,
                    "version": version,
                    "last_updated": last_updated,
                    "hash": digest,
                    "payload": stored,
                    "fetched_at": now,
                },
            )
        return Staged(version=version, changed=True, hash=digest)

    async def latest_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> Snapshot | None:
        self._read("latest_snapshot")
        row = self._latest(connection_id, kind, cin7_id)
        return None if row is None else snapshot_from_row(copy.deepcopy(row))

    async def get_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str, version: int
    ) -> Snapshot | None:
        self._read("get_snapshot")
        row = self._one(
            "snapshots", connection_id=connection_id, kind=kind, cin7_id=cin7_id, version=version
        )
        return None if row is None else snapshot_from_row(copy.deepcopy(row))

    async def snapshot_versions(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> list[Snapshot]:
        self._read("snapshot_versions")
        rows = self._rows("snapshots", connection_id=connection_id, kind=kind, cin7_id=cin7_id)
        return [
            snapshot_from_row(copy.deepcopy(row))
            for row in sorted(rows, key=lambda row: row["version"])
        ]

    async def seen(
        self, connection_id: int, kind: RecordKind, cin7_id: str, last_updated: str
    ) -> bool:
        return cin7_id in await self.seen_many(connection_id, kind, [(cin7_id, last_updated)])

    async def seen_many(
        self, connection_id: int, kind: RecordKind, items: Iterable[tuple[str, str]]
    ) -> set[str]:
        self._read("seen_many")
        wanted: dict[str, set[str]] = {}
        for cin7_id, stamp in items:
            wanted.setdefault(cin7_id, set()).add(stamp)
        return {
            row["cin7_id"]
            for row in self._rows("snapshots", connection_id=connection_id, kind=kind)
            if row["last_updated"] in wanted.get(row["cin7_id"], ())
        }

    def _latest(self, connection_id: int, kind: str, cin7_id: str) -> Row | None:
        rows = self._rows("snapshots", connection_id=connection_id, kind=kind, cin7_id=cin7_id)
        return max(rows, key=lambda row: row["version"], default=None)
