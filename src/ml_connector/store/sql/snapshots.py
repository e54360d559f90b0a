"""What was read from Cin7, on SQL: each stream's cursor and each document's snapshot versions.

A snapshot is Cin7's raw detail JSON, hashed without its volatile keys
(:func:`~ml_connector.store.rules.snapshot_hash`): a new version only when the content changed,
so a document Cin7 merely touched keeps its version. The cursor is set in the same transaction
as the pass's last snapshots, once the whole listing is staged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from ml_connector.store import tables as t
from ml_connector.store.models import Cursor, Snapshot, Staged
from ml_connector.store.rows import cursor_from_row, snapshot_from_row
from ml_connector.store.rules import check, parse_cin7_timestamp, snapshot_hash
from ml_connector.store.sql.base import IN_CHUNK, SqlBase, fetch_all, fetch_one
from ml_connector.store.sql.prepared import Prepared, one, run
from ml_connector.vocab import RECORD_KINDS, STREAMS, RecordKind, Stream

__all__ = ["SqlCursors", "SqlSnapshots"]

# Built once: every document read goes through these (a statement built anew costs its
# construction and its cache key again).
_s = t.snapshots.c
_LATEST = Prepared(
    select(_s.id, _s.version, _s.hash, _s.last_updated)
    .where(
        _s.connection_id == bindparam("cid"),
        _s.kind == bindparam("skind"),
        _s.cin7_id == bindparam("scid"),
    )
    .order_by(_s.version.desc())
    .limit(1)
)
_INSERT = Prepared(t.snapshots.insert())


class SqlCursors(SqlBase):
    """:class:`~ml_connector.store.protocols.Cursors` on SQL."""

    async def get_cursor(self, connection_id: int, stream: Stream) -> Cursor | None:
        """The stream's committed cursor, or None before the first completed pass."""
        check(stream, STREAMS, "stream")
        async with self._session(write=False) as c:
            row = await fetch_one(
                c,
                select(t.cursors).where(
                    t.cursors.c.connection_id == connection_id, t.cursors.c.stream == stream
                ),
            )
        return None if row is None else cursor_from_row(row)

    async def set_cursor(
        self, connection_id: int, stream: Stream, value: str, value_at: datetime | None = None
    ) -> Cursor:
        """Set the stream's cursor to Cin7's raw timestamp ``value`` (parsed when not given).

        Call it inside the transaction that stores the pass's snapshots, after the pass completed.
        """
        check(stream, STREAMS, "stream")
        now = self._clock()
        at = value_at if value_at is not None else parse_cin7_timestamp(value)
        stmt = self._insert(t.cursors).values(
            connection_id=connection_id, stream=stream, value=value, value_at=at, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.cursors.c.connection_id, t.cursors.c.stream],
            set_={"value": value, "value_at": at, "updated_at": now},
        )
        async with self._session() as c:
            await c.execute(stmt)
        return Cursor(stream=stream, value=value, value_at=at, updated_at=now)

    async def reset_cursor(self, connection_id: int, stream: Stream | None = None) -> int:
        """Forget one stream's cursor (or all), so the next pass lists everything again."""
        where = [t.cursors.c.connection_id == connection_id]
        if stream is not None:
            check(stream, STREAMS, "stream")
            where.append(t.cursors.c.stream == stream)
        async with self._session() as c:
            result = await c.execute(delete(t.cursors).where(*where))
        return int(result.rowcount or 0)


class SqlSnapshots(SqlBase):
    """:class:`~ml_connector.store.protocols.Snapshots` on SQL."""

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
        """Store Cin7's raw detail JSON as a new version when its content changed.

        The hash is SHA-256 over the canonical JSON of ``payload`` without the top-level
        ``volatile`` keys, so a document Cin7 merely touched (same content, new
        ``LastUpdatedDate``) keeps its version; its ``last_updated`` and payload are refreshed
        in place so :meth:`seen` recognises the new timestamp.
        """
        check(kind, RECORD_KINDS, "kind")
        digest = snapshot_hash(payload, volatile)
        now = self._clock()
        s = t.snapshots.c
        async with self._session() as c:
            latest = await one(c, _LATEST, {"cid": connection_id, "skind": kind, "scid": cin7_id})
            if latest is not None and latest["hash"] == digest:
                if latest["last_updated"] != last_updated:
                    await c.execute(
                        update(t.snapshots)
                        .where(s.id == latest["id"])
                        .values(
                            last_updated=last_updated,
                            payload=payload,
                            reference=reference,
                            fetched_at=now,
                        )
                    )
                return Staged(version=int(latest["version"]), changed=False, hash=digest)
            version = 1 if latest is None else int(latest["version"]) + 1
            await run(
                c,
                _INSERT,
                {
                    "connection_id": connection_id,
                    "kind": kind,
                    "cin7_id": cin7_id,
                    "reference": reference,
                    "version": version,
                    "last_updated": last_updated,
                    "hash": digest,
                    "payload": payload,
                    "fetched_at": now,
                },
            )
        return Staged(version=version, changed=True, hash=digest)

    async def latest_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> Snapshot | None:
        """The newest stored version of a document, or None."""
        s = t.snapshots.c
        async with self._session(write=False, single=True) as c:
            row = await fetch_one(
                c,
                select(t.snapshots)
                .where(s.connection_id == connection_id, s.kind == kind, s.cin7_id == cin7_id)
                .order_by(s.version.desc())
                .limit(1),
            )
        return None if row is None else snapshot_from_row(row)

    async def get_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str, version: int
    ) -> Snapshot | None:
        """One stored version of a document, or None."""
        s = t.snapshots.c
        async with self._session(write=False) as c:
            row = await fetch_one(
                c,
                select(t.snapshots).where(
                    s.connection_id == connection_id,
                    s.kind == kind,
                    s.cin7_id == cin7_id,
                    s.version == version,
                ),
            )
        return None if row is None else snapshot_from_row(row)

    async def snapshot_versions(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> list[Snapshot]:
        """Every stored version of a document, oldest first."""
        s = t.snapshots.c
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.snapshots)
                .where(s.connection_id == connection_id, s.kind == kind, s.cin7_id == cin7_id)
                .order_by(s.version),
            )
        return [snapshot_from_row(row) for row in rows]

    async def seen(
        self, connection_id: int, kind: RecordKind, cin7_id: str, last_updated: str
    ) -> bool:
        """True when a snapshot of this document with this ``LastUpdatedDate`` is already held."""
        return cin7_id in await self.seen_many(connection_id, kind, [(cin7_id, last_updated)])

    async def seen_many(
        self, connection_id: int, kind: RecordKind, items: Iterable[tuple[str, str]]
    ) -> set[str]:
        """The ids among ``(cin7_id, last_updated)`` pairs already held with that timestamp.

        One query per 500 ids: use it for a whole list page instead of :meth:`seen` per row.
        """
        wanted: dict[str, set[str]] = {}
        for cin7_id, stamp in items:
            wanted.setdefault(cin7_id, set()).add(stamp)
        found: set[str] = set()
        s = t.snapshots.c
        ids = list(wanted)
        async with self._session(write=False, single=True) as c:
            for start in range(0, len(ids), IN_CHUNK):
                chunk = ids[start : start + IN_CHUNK]
                rows = await c.execute(
                    select(s.cin7_id, s.last_updated).where(
                        s.connection_id == connection_id, s.kind == kind, s.cin7_id.in_(chunk)
                    )
                )
                for cin7_id, stamp in rows:
                    if stamp in wanted[cin7_id]:
                        found.add(cin7_id)
        return found
