"""Held invoices as a person reads them: invoice number, supplier, amount, age, what is missing.

A purchase is ``held`` while its invoice waits for goods receipts in QAD; its reason lists one
line per item (``NUT-M8: invoiced 12, received in QAD 0``). The invoice numbers come from the
purchase's latest Cin7 snapshot, the held amount from the record's reconcile figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ml_connector.store.models import Record
from ml_connector.store.search import SqlRecordSearch
from ml_connector.store.sql import SqlStore

__all__ = ["HeldInvoice", "HoldList", "held_invoice_lines", "invoice_numbers"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HeldInvoice:
    record: Record
    supplier_name: str | None
    invoice_numbers: tuple[str, ...]
    held: dict[str, str]  # currency -> amount (decimal string)
    waiting_for: tuple[str, ...]  # one line per item: "NUT-M8: invoiced 12, received in QAD 0"


@dataclass(frozen=True)
class HoldList:
    connection: str
    holds: tuple[HeldInvoice, ...]
    now: datetime


def invoice_numbers(payload: Any) -> tuple[str, ...]:
    """Every ``InvoiceNumber`` in a Cin7 purchase document, in order, without repeats."""

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "InvoiceNumber" and isinstance(item, str) and item.strip():
                    yield item.strip()
                else:
                    yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return tuple(dict.fromkeys(walk(payload)))


async def held_invoice_lines(
    store: SqlStore, name: str, *, now: Callable[[], datetime] = _now
) -> HoldList:
    """Connection ``name``'s held purchases, longest-held first."""
    cid = await store.connection_id(name)
    held = await store.list_records(cid, status="held", kind="purchase")
    names = await SqlRecordSearch(store.engine).supplier_names(
        cid, [r.supplier_id for r in held if r.supplier_id]
    )
    lines: list[HeldInvoice] = []
    for record in held:
        snapshot = await store.latest_snapshot(cid, record.kind, record.cin7_id)
        lines.append(
            HeldInvoice(
                record=record,
                supplier_name=names.get(record.supplier_id or ""),
                invoice_numbers=invoice_numbers(snapshot.payload) if snapshot else (),
                held=dict(record.amounts.get("held", {})),
                waiting_for=tuple(p.strip() for p in (record.reason or "").split(";") if p.strip()),
            )
        )
    return HoldList(name, tuple(lines), now())
