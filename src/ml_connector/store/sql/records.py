"""Records on SQL: the sync state of each Cin7 document, and the month-end reconcile over them.

A record's ``status_since`` moves only when its status changes, so lists ordered by it show the
longest-waiting first. Reasons are redacted before they are kept. Every status a record takes
(from its creation on) is a ``status`` event in its trail, appended in the transaction that
changes it, so ``audit verify`` sees a status changed behind the store's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import StoreError
from ml_connector.store import tables as t
from ml_connector.store.audit import status_entries
from ml_connector.store.models import ReconcileLine, Record, TrailEntry
from ml_connector.store.rows import record_from_row
from ml_connector.store.rules import check, check_month, reconcile_lines
from ml_connector.store.sql.base import fetch_all, fetch_one
from ml_connector.store.sql.chain import SqlChain
from ml_connector.store.sql.prepared import Prepared, one
from ml_connector.vocab import RECORD_KINDS, RECORD_STATUSES, RecordKind, RecordStatus

__all__ = ["SqlRecords"]

# Built once: every record goes through these, and a statement built anew costs its construction
# and its cache key again. An UPDATE sets the columns named by its parameters' other keys.
_r = t.records.c
_BY_KEY = Prepared(
    select(t.records).where(
        _r.connection_id == bindparam("cid"),
        _r.kind == bindparam("rkind"),
        _r.cin7_id == bindparam("rcid"),
    )
)
_BY_ID_IN = Prepared(
    select(t.records).where(_r.id == bindparam("rid"), _r.connection_id == bindparam("cid"))
)
_UPDATE = Prepared(update(t.records).where(_r.id == bindparam("rid")).returning(*t.records.c))


class SqlRecords(SqlChain):
    """:class:`~ml_connector.store.protocols.RecordWrites` and ``RecordReads`` on SQL."""

    _record_insert: Prepared | None = None

    async def upsert_record(
        self,
        connection_id: int,
        kind: RecordKind,
        cin7_id: str,
        *,
        reference: str,
        supplier_id: str | None = None,
        latest_version: int | None = None,
        month: str | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
        status: RecordStatus | None = None,
        reason: str | None = None,
        actor: str = "store",
        trail: Sequence[TrailEntry] = (),
    ) -> Record:
        """Create or update the record of one Cin7 document.

        A new record starts ``pending`` unless ``status`` is given. On update, arguments left as
        None keep their stored value, except that a given ``status`` also replaces ``reason``.
        A new record or a changed status appends a ``status`` event by ``actor``, then
        ``trail``, in the same transaction.
        """
        check(kind, RECORD_KINDS, "kind")
        if status is not None:
            check(status, RECORD_STATUSES, "record status")
        if month is not None:
            check_month(month)
        clean_reason = await self._scrub_text(connection_id, reason)
        secrets = await self._known_secrets(connection_id)
        now = self._clock()
        async with self._session() as c:
            row = await one(
                c,
                self._new_record(),
                {
                    "connection_id": connection_id,
                    "kind": kind,
                    "cin7_id": cin7_id,
                    "reference": reference,
                    "supplier_id": supplier_id,
                    "status": status or "pending",
                    "reason": clean_reason,
                    "latest_version": latest_version,
                    "posted_version": None,
                    "month": month,
                    "amounts": amounts or {},
                    "status_since": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            before = None
            if row is None:  # known already: read it, then update what was given
                row = await one(c, _BY_KEY, {"cid": connection_id, "rkind": kind, "rcid": cin7_id})
                assert row is not None
                before = record_from_row(row)
                changes: dict[str, Any] = {"reference": reference, "updated_at": now}
                optional = {
                    "supplier_id": supplier_id,
                    "latest_version": latest_version,
                    "month": month,
                    "amounts": amounts,
                }
                changes.update({k: v for k, v in optional.items() if v is not None})
                if status is not None:
                    changes["reason"] = clean_reason
                    if status != row["status"]:
                        changes["status"] = status
                        changes["status_since"] = now
                row = await one(c, _UPDATE, {"rid": row["id"], **changes})
            assert row is not None
            after = record_from_row(row)
            self._record_connections[after.id] = after.connection_id
            entries = status_entries(before, after, actor, trail)
            if entries:
                await self._chain_append(c, connection_id, entries, secrets)
        return after

    async def set_record_status(
        self,
        record_id: int,
        status: RecordStatus,
        reason: str | None = None,
        *,
        posted_version: int | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
        actor: str = "store",
        trail: Sequence[TrailEntry] = (),
    ) -> Record:
        """Set a record's status and reason (None clears it); optionally its posted version.

        A changed status appends a ``status`` event by ``actor``, then ``trail``, in the same
        transaction.
        """
        check(status, RECORD_STATUSES, "record status")
        now = self._clock()
        r = t.records.c
        # The connection (whose secrets are read before the write connection is taken) is kept
        # once known: a record never moves. The write checks it, so an id reused after a removed
        # connection is read again.
        connection_id = self._record_connections.get(record_id)
        if connection_id is None:
            async with self._session(write=False, single=True) as c:
                connection_id = await c.scalar(select(r.connection_id).where(r.id == record_id))
        if connection_id is None:
            raise StoreError(f"no record with id {record_id}")
        secrets = await self._known_secrets(connection_id)
        async with self._session() as c:
            row = await one(c, _BY_ID_IN, {"rid": record_id, "cid": connection_id})
            if row is None:
                self._record_connections.pop(record_id, None)
                raise StoreError(f"no record with id {record_id} (retry: its connection moved)")
            before = record_from_row(row)
            changes: dict[str, Any] = {
                "status": status,
                "reason": await self._scrub_text(connection_id, reason),
                "updated_at": now,
            }
            if status != row["status"]:
                changes["status_since"] = now
            if posted_version is not None:
                changes["posted_version"] = posted_version
            if amounts is not None:
                changes["amounts"] = amounts
            row = await one(c, _UPDATE, {"rid": record_id, **changes})
            assert row is not None
            after = record_from_row(row)
            self._record_connections[record_id] = after.connection_id
            entries = status_entries(before, after, actor, trail)
            if entries:
                await self._chain_append(c, after.connection_id, entries, secrets)
        return after

    async def get_record(self, connection_id: int, kind: RecordKind, cin7_id: str) -> Record | None:
        async with self._session(write=False, single=True) as c:
            row = await one(c, _BY_KEY, {"cid": connection_id, "rkind": kind, "rcid": cin7_id})
        return None if row is None else record_from_row(row)

    async def get_record_by_id(self, record_id: int) -> Record | None:
        async with self._session(write=False, single=True) as c:
            row = await self._record_row(c, t.records.c.id == record_id)
        return None if row is None else record_from_row(row)

    async def find_records(self, connection_id: int, reference: str) -> list[Record]:
        """Records whose reference (OrderNumber or supplier name) is exactly ``reference``."""
        return await self.list_records(connection_id, reference=reference)

    async def list_records(
        self,
        connection_id: int,
        *,
        status: str | Sequence[str] | None = None,
        kind: str | None = None,
        month: str | None = None,
        supplier_id: str | None = None,
        reference: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record]:
        """Records matching every given filter, oldest status change first."""
        r = t.records.c
        where: list[ColumnElement[bool]] = [r.connection_id == connection_id]
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            for one in statuses:
                check(one, RECORD_STATUSES, "record status")
            where.append(r.status.in_(statuses))
        if kind is not None:
            where.append(r.kind == kind)
        if month is not None:
            check_month(month)
            where.append(r.month == month)
        if supplier_id is not None:
            where.append(r.supplier_id == supplier_id)
        if reference is not None:
            where.append(r.reference == reference)
        stmt = select(t.records).where(*where).order_by(r.status_since, r.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self._session(write=False) as c:
            rows = await fetch_all(c, stmt)
        return [record_from_row(row) for row in rows]

    async def count_records(self, connection_id: int) -> dict[str, int]:
        """How many records are in each status (every status present, zeros included)."""
        r = t.records.c
        async with self._session(write=False) as c:
            rows = await c.execute(
                select(r.status, func.count())
                .where(r.connection_id == connection_id)
                .group_by(r.status)
            )
            counts = {str(status): int(n) for status, n in rows}
        return {status: counts.get(status, 0) for status in RECORD_STATUSES}

    async def reconcile(self, connection_id: int, month: str | None = None) -> list[ReconcileLine]:
        """Per supplier and currency: invoiced, posted, held and received value (Decimal).

        Sums the ``amounts`` the engine keeps on purchase records, for one order month or all.
        """
        purchases = await self.list_records(connection_id, kind="purchase", month=month)
        suppliers = {
            rec.cin7_id: rec.reference
            for rec in await self.list_records(connection_id, kind="supplier")
        }
        return reconcile_lines(purchases, suppliers)

    async def _record_row(
        self, c: AsyncConnection, *where: ColumnElement[bool]
    ) -> RowMapping | None:
        return await fetch_one(c, select(t.records).where(*where))

    def _new_record(self) -> Prepared:
        """The record INSERT (it skips a document already known), built once per store."""
        if self._record_insert is None:
            self._record_insert = Prepared(
                self._insert(t.records)
                .on_conflict_do_nothing(index_elements=[_r.connection_id, _r.kind, _r.cin7_id])
                .returning(*t.records.c)
            )
        return self._record_insert
