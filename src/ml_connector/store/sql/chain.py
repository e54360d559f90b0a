"""Appending to a connection's audit chain on SQL, for every verb that writes trail events.

:meth:`SqlChain._chain_append` runs inside the caller's database connection, so an event is
committed with the change it records (a record's status, a posting) or not at all. It locks the
connection's chain head (``SELECT ... FOR UPDATE`` on PostgreSQL, the database write lock on
SQLite), so concurrent appends form one chain, and links the events with the audit key of this
vault's master key, beginning a key version when the master key is new
(:mod:`ml_connector.store.audit_keys`). A legacy head (plain-hash events, no keyed event yet) is
sealed first (:func:`~ml_connector.store.audit.seal_entries`); :meth:`SqlChain._seal_legacy`
does that for every connection when the store is opened with a vault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store import tables as t
from ml_connector.store.audit import LEGACY, ChainHead, clean_entry, link_rows, seal_entries
from ml_connector.store.audit_keys import LinkKey, StoredKey, choose_key, current_key_id
from ml_connector.store.models import AuditEvent, TrailEntry
from ml_connector.store.rows import audit_from_row, record_from_row
from ml_connector.store.sql.base import SqlBase, fetch_all, fetch_one
from ml_connector.store.sql.prepared import Prepared, one, run

__all__ = ["SqlChain"]

# Built once: every append runs these, and a statement built anew costs its construction and
# its cache key again.
_h = t.audit_heads.c
_a = t.audit_events.c
_HEAD_QUERY = select(_h.last_hash, _h.count, _h.key_version).where(
    _h.connection_id == bindparam("cid")
)
_HEAD = Prepared(_HEAD_QUERY)
_HEAD_LOCKED = Prepared(_HEAD_QUERY.with_for_update())
_HEAD_AND_LAST_SEQ = Prepared(
    _HEAD_QUERY.add_columns(
        select(func.max(_a.seq))
        .where(_a.connection_id == bindparam("cid"), _a.record_key == bindparam("record_key"))
        .scalar_subquery()
        .label("last_seq")
    )
)
_INSERT_EVENT = Prepared(t.audit_events.insert().returning(_a.id))
_MOVE_HEAD_UPDATE = (
    update(t.audit_heads)
    .where(_h.connection_id == bindparam("cid"))
    .values(
        last_hash=bindparam("new_hash"),
        count=_h.count + bindparam("added"),
        key_version=bindparam("new_version"),
    )
)
_MOVE_HEAD = Prepared(_MOVE_HEAD_UPDATE)
_MOVE_KNOWN_HEAD = Prepared(_MOVE_HEAD_UPDATE.where(_h.last_hash == bindparam("old_hash")))

EVENTS_PER_INSERT = 32
"""Most events one multi-row INSERT carries; a longer batch is sent in several."""
_INSERT_EVENTS: dict[tuple[int, tuple[str, ...]], Prepared] = {}


def _insert_events_statement(count: int, columns: tuple[str, ...]) -> Prepared:
    """The INSERT of ``count`` events (their values ``<column>_<i>``), built once per size.

    Each value names its column's type: in a multi-row VALUES SQLAlchemy types only the first.
    """
    found = _INSERT_EVENTS.get((count, columns))
    if found is None:
        values = [
            {name: bindparam(f"{name}_{i}", type_=_a[name].type) for name in columns}
            for i in range(count)
        ]
        statement = t.audit_events.insert().values(values).returning(_a.id, _a.record_key, _a.seq)
        found = _INSERT_EVENTS[(count, columns)] = Prepared(statement)
    return found


KNOWN_RECORDS = 4096
"""Record keys whose last sequence number a store remembers per connection (the newest)."""


@dataclass
class _KnownHead:
    """A chain head as this store last moved it, and the last sequence numbers it appended.

    A head hash commits to every event before it, so while the stored head still has this hash
    nothing was appended since, by any process, and the sequence numbers are still the last.
    """

    last_hash: str
    key_version: int
    last_seq: dict[str, int] = field(default_factory=dict)


class SqlChain(SqlBase):
    """The chain's writer and the audit keys, shared by the trail and the records verbs."""

    _link_keys: dict[str, LinkKey]
    _known_heads: dict[int, _KnownHead]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link_keys = {}
        self._known_heads = {}

    async def _chain_append(
        self,
        c: AsyncConnection,
        connection_id: int,
        entries: Sequence[TrailEntry],
        secrets: tuple[str, ...],
    ) -> list[AuditEvent]:
        """Append ``entries`` in order to the connection's chain, in the connection ``c``.

        Data is redacted first: secret-looking keys, and ``secrets``, the connection's own
        credentials (read them before taking ``c``: a second connection while holding the write
        lock can wait forever for the pool). With no entries this only seals a legacy trail.
        ConfigError for an unknown connection or a master key that cannot link.
        """
        now = self._clock().astimezone(UTC)
        clean = [clean_entry(entry, now, secrets) for entry in entries]
        a = t.audit_events.c
        sqlite = self._dialect == "sqlite"
        record_keys = sorted({entry.record_key for entry in entries})
        if clean and sqlite:
            appended = await self._append_after_known_head(c, connection_id, clean, record_keys)
            if appended is not None:
                return appended
        # On SQLite the write lock is held from BEGIN, so a one-record batch's last sequence
        # number is read with the head (on PostgreSQL it is read once the head's row lock is
        # held: a subquery beside the lock would read the snapshot from before a concurrent
        # append committed).
        one_record = sqlite and len(record_keys) == 1
        if one_record:
            head = await one(
                c, _HEAD_AND_LAST_SEQ, {"cid": connection_id, "record_key": record_keys[0]}
            )
        else:
            head = await one(c, _HEAD if sqlite else _HEAD_LOCKED, {"cid": connection_id})
        if head is None:
            raise ConfigError(f"no connection with id {connection_id}")
        known = self._known_heads.get(connection_id)
        if known is not None and known.last_hash != head["last_hash"]:
            self._known_heads.pop(connection_id, None)  # appended to elsewhere: numbers are old
        if head["key_version"] == LEGACY and head["count"] > 0:
            legacy = ChainHead(int(head["count"]), head["last_hash"])
            clean = [*await self._seal(c, connection_id, legacy, now, secrets), *clean]
            one_record = False
        if not clean:
            return []
        key = await self._link_key(c, int(head["key_version"]))
        if one_record:
            last_seq = {record_keys[0]: int(head["last_seq"] or 0)}
        else:
            keys = sorted({entry.record_key for entry in clean})
            last_seq = {
                str(k): int(n)
                for k, n in await c.execute(
                    select(a.record_key, func.max(a.seq))
                    .where(a.connection_id == connection_id, a.record_key.in_(keys))
                    .group_by(a.record_key)
                )
            }
        rows = link_rows(connection_id, head["last_hash"], key.key, key.version, clean, last_seq)
        ids = await self._insert_events(c, rows)
        await run(
            c,
            _MOVE_HEAD,
            {
                "cid": connection_id,
                "new_hash": rows[-1]["hash"],
                "added": len(rows),
                "new_version": key.version,
            },
        )
        self._remember_head(connection_id, rows[-1]["hash"], key.version, last_seq)
        events = [
            audit_from_row({**row, "id": new_id}) for row, new_id in zip(rows, ids, strict=True)
        ]
        return events[len(events) - len(entries) :] if entries else []

    async def _append_after_known_head(
        self,
        c: AsyncConnection,
        connection_id: int,
        clean: list[TrailEntry],
        record_keys: list[str],
    ) -> list[AuditEvent] | None:
        """On SQLite, append after the head this store last moved without reading it: two
        statements instead of three.

        Only when every record key's last sequence number is remembered. The head moves only if
        its hash is still the remembered one (the UPDATE's condition, under the write lock held
        since BEGIN); otherwise — another process appended, or the transaction that moved it
        rolled back — nothing was written and None sends the caller to read the head, which
        drops this memory unless it is that head. Not on PostgreSQL: there a store's concurrent
        transactions race for the head, the memory is often stale, and the failed UPDATE cost
        more than it saved (30.5-31.1 statements per purchase against 29-30 in
        `tests/integration/usecases/test_sql_per_purchase.py`).
        """
        known = self._known_heads.get(connection_id)
        if known is None or any(k not in known.last_seq for k in record_keys):
            return None
        key = await self._link_key(c, known.key_version)
        last_seq = {k: known.last_seq[k] for k in record_keys}
        rows = link_rows(connection_id, known.last_hash, key.key, key.version, clean, last_seq)
        moved = await run(
            c,
            _MOVE_KNOWN_HEAD,
            {
                "cid": connection_id,
                "old_hash": known.last_hash,
                "new_hash": rows[-1]["hash"],
                "added": len(rows),
                "new_version": key.version,
            },
        )
        if moved.rowcount != 1:
            return None  # the caller reads the head, and forgets this one if it is not that
        ids = await self._insert_events(c, rows)
        self._remember_head(connection_id, rows[-1]["hash"], key.version, last_seq)
        return [
            audit_from_row({**row, "id": new_id}) for row, new_id in zip(rows, ids, strict=True)
        ]

    async def _insert_events(self, c: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert linked event rows; their ids, in the rows' order.

        One row (the common append) is a plain INSERT ... RETURNING; several go as multi-row
        INSERTs of at most :data:`EVENTS_PER_INSERT` rows. A multi-row INSERT returns its rows
        in no promised order, so each id is matched to its row by the row's record key and
        sequence number (unique in a connection's chain).
        """
        if len(rows) == 1:
            return [(await run(c, _INSERT_EVENT, rows[0])).scalar_one()]
        columns = tuple(rows[0])
        ids: dict[tuple[str, int], int] = {}
        for start in range(0, len(rows), EVENTS_PER_INSERT):
            batch = rows[start : start + EVENTS_PER_INSERT]
            params = {f"{name}_{i}": row[name] for i, row in enumerate(batch) for name in columns}
            ran = await run(c, _insert_events_statement(len(batch), columns), params)
            ids.update(((got["record_key"], got["seq"]), got["id"]) for got in ran.rows)
        return [ids[(row["record_key"], row["seq"])] for row in rows]

    def _remember_head(
        self, connection_id: int, last_hash: str, key_version: int, last_seq: dict[str, int]
    ) -> None:
        """Remember the head just moved and the records' last sequence numbers (the newest
        :data:`KNOWN_RECORDS` per connection, the oldest forgotten first)."""
        known = self._known_heads.get(connection_id)
        if known is None:
            known = self._known_heads[connection_id] = _KnownHead(last_hash, key_version)
        known.last_hash, known.key_version = last_hash, key_version
        for record_key, seq in last_seq.items():
            known.last_seq.pop(record_key, None)
            known.last_seq[record_key] = seq
        while len(known.last_seq) > KNOWN_RECORDS:
            del known.last_seq[next(iter(known.last_seq))]

    async def _seal(
        self,
        c: AsyncConnection,
        connection_id: int,
        legacy: ChainHead,
        now: datetime,
        secrets: tuple[str, ...],
    ) -> list[TrailEntry]:
        r = t.records.c
        records = await fetch_all(
            c, select(t.records).where(r.connection_id == connection_id).order_by(r.id)
        )
        entries = seal_entries(legacy, (record_from_row(row) for row in records), now)
        return [clean_entry(entry, now, secrets) for entry in entries]

    async def _after_open(self) -> None:
        await self._seal_legacy()

    async def _seal_legacy(self) -> int:
        """Seal every legacy trail (plain-hash events and no keyed one); how many were sealed."""
        h = t.audit_heads.c
        async with self._session(write=False) as c:
            legacy = (
                await c.scalars(select(h.connection_id).where(h.key_version == LEGACY, h.count > 0))
            ).all()
        for connection_id in legacy:
            secrets = await self._known_secrets(int(connection_id))
            async with self._session() as c:
                await self._chain_append(c, int(connection_id), [], secrets)
        return len(legacy)

    async def _link_key(self, c: AsyncConnection, head_version: int) -> LinkKey:
        """The key to link with; no query when this chain's last event used the same version
        this store last read as the newest for this master key (the common case)."""
        vault = self._need_vault()
        key_id = current_key_id(vault)
        known = self._link_keys.get(key_id)
        if known is not None and known.version == head_version:
            return known
        k = t.audit_keys.c
        row = await fetch_one(c, select(t.audit_keys).order_by(k.version.desc()).limit(1))
        newest = None if row is None else _stored(row)
        same = newest
        if newest is not None and newest.key_id != key_id:
            row = await fetch_one(c, select(t.audit_keys).where(k.key_id == key_id))
            same = None if row is None else _stored(row)
        new, key = choose_key(vault, newest, same)
        if new is None:
            self._link_keys[key_id] = key
        else:
            # Not remembered: the version exists only once this transaction commits.
            await c.execute(
                self._insert(t.audit_keys)
                .values(
                    version=new.version,
                    key_id=new.key_id,
                    key_enc=new.key_enc,
                    created_at=self._clock(),
                )
                .on_conflict_do_nothing()
            )
            row = await fetch_one(c, select(t.audit_keys).where(k.key_id == key_id))
            if row is None or row["version"] != key.version:
                raise StoreError(
                    "another process began an audit key version at the same time; retry"
                )
        return key

    async def _stored_keys(self) -> list[StoredKey]:
        async with self._session(write=False) as c:
            rows = await fetch_all(c, select(t.audit_keys).order_by(t.audit_keys.c.version))
        return [_stored(row) for row in rows]


def _stored(row: RowMapping) -> StoredKey:
    return StoredKey(int(row["version"]), str(row["key_id"]), str(row["key_enc"]))
