"""Records in memory: the sync state of each Cin7 document, and the reconcile over them."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ml_connector.errors import StoreError
from ml_connector.store.audit import status_entries
from ml_connector.store.memory.base import as_json
from ml_connector.store.memory.trail import MemoryChain
from ml_connector.store.models import (
    ReconcileLine,
    Record,
    TrailEntry,
)
from ml_connector.store.rows import (
    record_from_row,
)
from ml_connector.store.rules import (
    check,
    check_month,
    reconcile_lines,
)
from ml_connector.vocab import (
    RECORD_KINDS,
    RECORD_STATUSES,
    RecordKind,
    RecordStatus,
)

__all__ = ["MemoryRecords"]


class MemoryRecords(MemoryChain):
    """:class:`~ml_connector.store.protocols.RecordWrites` and ``RecordReads`` in memory."""

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
        check(kind, RECORD_KINDS, "kind")
        if status is not None:
            check(status, RECORD_STATUSES, "record status")
        if month is not None:
            check_month(month)
        now = self._clock()
        async with self._write("upsert_record"):
            self._owned(connection_id)
            clean_reason = self._scrub(connection_id, reason)
            row = self._one("records", connection_id=connection_id, kind=kind, cin7_id=cin7_id)
            before = None if row is None else record_from_row(copy.deepcopy(row))
            if row is None:
                row = self._insert(
                    "records",
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
                        "amounts": as_json(amounts or {}),
                        "status_since": now,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
            else:
                changes: dict[str, Any] = {"reference": reference, "updated_at": now}
                optional = {
                    "supplier_id": supplier_id,
                    "latest_version": latest_version,
                    "month": month,
                    "amounts": None if amounts is None else as_json(amounts),
                }
                changes.update({k: v for k, v in optional.items() if v is not None})
                if status is not None:
                    changes["reason"] = clean_reason
                    if status != row["status"]:
                        changes["status"] = status
                        changes["status_since"] = now
                row = self._update("records", row, **changes)
            after = record_from_row(copy.deepcopy(row))
            self._chain_append(connection_id, status_entries(before, after, actor, trail))
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
        check(status, RECORD_STATUSES, "record status")
        now = self._clock()
        async with self._write("set_record_status"):
            row = self._tables["records"].get(record_id)
            if row is None:
                raise StoreError(f"no record with id {record_id}")
            before = record_from_row(copy.deepcopy(row))
            changes: dict[str, Any] = {
                "status": status,
                "reason": self._scrub(row["connection_id"], reason),
                "updated_at": now,
            }
            if status != row["status"]:
                changes["status_since"] = now
            if posted_version is not None:
                changes["posted_version"] = posted_version
            if amounts is not None:
                changes["amounts"] = as_json(amounts)
            row = self._update("records", row, **changes)
            after = record_from_row(copy.deepcopy(row))
            self._chain_append(after.connection_id, status_entries(before, after, actor, trail))
        return after

    async def get_record(self, connection_id: int, kind: RecordKind, cin7_id: str) -> Record | None:
        self._read("get_record")
        row = self._one("records", connection_id=connection_id, kind=kind, cin7_id=cin7_id)
        return None if row is None else record_from_row(copy.deepcopy(row))

    async def get_record_by_id(self, record_id: int) -> Record | None:
        self._read("get_record_by_id")
        row = self._tables["records"].get(record_id)
        return None if row is None else record_from_row(copy.deepcopy(row))

    async def find_records(self, connection_id: int, reference: str) -> list[Record]:
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
        statuses: list[str] | None = None
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            for one in statuses:
                check(one, RECORD_STATUSES, "record status")
        if month is not None:
            check_month(month)
        self._read("list_records")
        match = {
            "kind": kind,
            "month": month,
            "supplier_id": supplier_id,
            "reference": reference,
        }
        rows = [
            row
            for row in self._rows("records", connection_id=connection_id)
            if (statuses is None or row["status"] in statuses)
            and all(value is None or row[name] == value for name, value in match.items())
        ]
        rows.sort(key=lambda row: (row["status_since"], row["id"]))
        chosen = rows[offset:] if limit is None else rows[offset : offset + limit]
        return [record_from_row(copy.deepcopy(row)) for row in chosen]

    async def count_records(self, connection_id: int) -> dict[str, int]:
        self._read("count_records")
        counts: dict[str, int] = dict.fromkeys(RECORD_STATUSES, 0)
        for row in self._rows("records", connection_id=connection_id):
            counts[row["status"]] += 1
        return counts

    async def reconcile(self, connection_id: int, month: str | None = None) -> list[ReconcileLine]:
        purchases = await self.list_records(connection_id, kind="purchase", month=month)
        suppliers = {
            rec.cin7_id: rec.reference
            for rec in await self.list_records(connection_id, kind="supplier")
        }
        return reconcile_lines(purchases, suppliers)
