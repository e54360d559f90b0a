"""Finding records the way a person asks: by status, supplier, reference, invoice number, date.

One SQL query per search, on both back-ends:

- **supplier**: a Cin7 SupplierID, or part of a supplier's name (the supplier records of the
  connection hold the names);
- **reference**: part of the purchase's OrderNumber (case-insensitive);
- **invoice**: the start of an invoice number, looked up in the purchase's latest snapshot (an
  invoice can be held, and so not yet in QAD, and still be found);
- **changed_from / changed_to**: the day the record last changed status, inclusive.

Newest status change first, a page at a time; the total is counted by the same filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, Text, and_, cast, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import StoreError
from ml_connector.store import tables as t
from ml_connector.store.db import BEGIN_MODE
from ml_connector.store.models import Record
from ml_connector.store.rows import record_from_row
from ml_connector.vocab import RecordKind, RecordStatus

__all__ = ["RecordQuery", "SqlRecordSearch"]

_ESCAPE = "\\"


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """What to look for; every filter left empty matches everything."""

    kind: RecordKind = "purchase"
    statuses: tuple[RecordStatus, ...] = ()
    supplier: str = ""
    reference: str = ""
    invoice: str = ""
    changed_from: date | None = None
    changed_to: date | None = None
    limit: int = 50
    offset: int = 0


def _like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (the caller adds its own ``%``)."""
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class SqlRecordSearch:
    """``SqlRecordSearch(store.engine).search(connection_id, query)``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = (
            engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
            if engine.dialect.name == "sqlite"
            else engine
        )

    def _where(self, connection_id: int, query: RecordQuery) -> list[ColumnElement[bool]]:
        r = t.records.c
        where: list[ColumnElement[bool]] = [r.connection_id == connection_id, r.kind == query.kind]
        if query.statuses:
            where.append(r.status.in_(list(query.statuses)))
        if query.reference.strip():
            pattern = f"%{_like(query.reference.strip().lower())}%"
            where.append(func.lower(r.reference).like(pattern, escape=_ESCAPE))
        if query.supplier.strip():
            wanted = query.supplier.strip()
            suppliers = t.records.alias("suppliers")
            named = select(suppliers.c.cin7_id).where(
                suppliers.c.connection_id == connection_id,
                suppliers.c.kind == "supplier",
                func.lower(suppliers.c.reference).like(
                    f"%{_like(wanted.lower())}%", escape=_ESCAPE
                ),
            )
            where.append(or_(r.supplier_id == wanted, r.supplier_id.in_(named)))
        if query.invoice.strip():
            s = t.snapshots.c
            # The payload is stored as JSON text: compact (`json_codec.dumps_text`), or with
            # json.dumps' ", " and ": " separators in older rows and where json wrote it, so an
            # invoice number is `"InvoiceNumber":"<number>` or `"InvoiceNumber": "<number>`.
            number = _like(query.invoice.strip())
            payload = cast(s.payload, Text)
            holding = select(s.cin7_id).where(
                s.connection_id == connection_id,
                s.kind == query.kind,
                s.version == r.latest_version,
                s.cin7_id == r.cin7_id,
                or_(
                    payload.like(f'%"InvoiceNumber":"{number}%', escape=_ESCAPE),
                    payload.like(f'%"InvoiceNumber": "{number}%', escape=_ESCAPE),
                ),
            )
            where.append(holding.exists())
        if query.changed_from is not None:
            where.append(r.status_since >= _day_start(query.changed_from))
        if query.changed_to is not None:
            where.append(r.status_since < _day_start(query.changed_to + timedelta(days=1)))
        return where

    async def search(self, connection_id: int, query: RecordQuery) -> tuple[list[Record], int]:
        """The page of matching records (newest status change first) and how many match."""
        r = t.records.c
        where = self._where(connection_id, query)
        page: Select[Any] = (
            select(t.records)
            .where(and_(*where))
            .order_by(r.status_since.desc(), r.id.desc())
            .limit(max(1, query.limit))
            .offset(max(0, query.offset))
        )
        total = select(func.count()).select_from(t.records).where(and_(*where))
        try:
            async with self._engine.connect() as c:
                rows = (await c.execute(page)).mappings().all()
                count = await c.scalar(total)
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            raise StoreError(f"store error: {orig or type(exc).__name__}") from None
        return [record_from_row(row) for row in rows], int(count or 0)

    async def supplier_names(self, connection_id: int, supplier_ids: list[str]) -> dict[str, str]:
        """SupplierID → the supplier's name, for the suppliers the engine has seen."""
        if not supplier_ids:
            return {}
        r = t.records.c
        stmt = select(r.cin7_id, cast(r.reference, String)).where(
            r.connection_id == connection_id,
            r.kind == "supplier",
            r.cin7_id.in_(sorted(set(supplier_ids))[:1000]),
        )
        try:
            async with self._engine.connect() as c:
                rows = (await c.execute(stmt)).all()
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            raise StoreError(f"store error: {orig or type(exc).__name__}") from None
        return {str(cin7_id): str(name) for cin7_id, name in rows}
