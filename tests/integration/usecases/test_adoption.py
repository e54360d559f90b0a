"""Adoption against the QAD sandbox, on SQLite and PostgreSQL: a tenant that already holds the
POs, receipts and invoices (keyed "by hand": here, by an earlier installation whose records are
gone) gets none of them a second time; a partial receipt needs attention with both figures."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from usecase_world import Setup

from ml_connector.qad.models import ReceiptLineSpec, ReceiptSpec
from ml_connector.sandbox.catalog import DIVERGENCES
from ml_connector.sandbox.truth import Books, audit, landed
from ml_connector.store.models import ConnectionConfig
from ml_connector.usecases import (
    Remotes,
    add_connection,
    edit_connection,
    remove_connection,
    suggest,
    sync_connection,
)

SKU = "WID-100"


async def _reinstall(s: Setup) -> None:
    """Forget everything ml-connector recorded; QAD keeps what it holds, as if keyed by hand."""
    old = await s.config()
    await remove_connection(s.first, "acme")
    await add_connection(s.first, ConnectionConfig.from_settings("acme", old.settings()))
    await suggest(s.first, "acme", apply=True, remotes=s.remotes)


def _writes(s: Setup) -> dict[str, Any]:
    state = s.qad.tenant().state()
    return {
        "pos": [(po["purchaseOrderNumber"], po.get("lines")) for po in state["purchaseOrders"]],
        "receivers": len(state.get("receivers") or []),
        "invoices": len(state.get("supplierInvoices") or []),
    }


async def _trail_events(s: Setup, order: str) -> list[str]:
    config = await s.config()
    assert config.id is not None
    return [e.event for e in await s.first.trail(config.id, f"purchase:{order}")]


async def test_documents_qad_already_holds_are_adopted_never_posted_again(setup: Setup) -> None:
    first = await sync_connection(setup.first, "acme", remotes=setup.remotes)
    assert first.report.status == "succeeded", first.report.error
    assert first.report.counters.purchase_orders > 0
    before = _writes(setup)

    await _reinstall(setup)
    again = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    assert again.report.status == "succeeded", again.report.error
    c = again.report.counters
    assert (c.purchase_orders, c.receipts, c.invoices) == (0, 0, 0)
    assert c.adopted >= first.report.counters.purchase_orders + first.report.counters.receipts
    assert _writes(setup) == before  # nothing keyed twice
    order = setup.qad_po_numbers()[0]
    assert "adopted" in await _trail_events(setup, order)


async def test_a_cutover_purchase_whose_po_finance_keyed_is_adopted_not_listed(
    setup: Setup,
) -> None:
    state = setup.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": SKU, "quantity": 5}], supplier_id=state.suppliers[0].id
    )
    ordered = date.fromisoformat(doc["OrderDate"][:10])
    order = doc["OrderNumber"]
    await sync_connection(setup.first, "acme", remotes=setup.remotes)  # QAD now holds the PO
    assert order in setup.qad_po_numbers()

    await _reinstall(setup)
    await edit_connection(setup.first, "acme", {"since": ordered + timedelta(days=1)})
    state.receive(doc["ID"], date=ordered + timedelta(days=2))
    result = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    config = await setup.config()
    assert config.id is not None
    [record] = [r for r in await setup.first.find_records(config.id, order)]
    assert record.status == "posted", record.reason
    assert result.report.counters.purchase_orders == 0
    assert result.report.counters.receipts == 1  # the goods QAD did not hold yet
    assert setup.qad_po_numbers().count(order) == 1
    events = await _trail_events(setup, order)
    assert "adopted" in events
    assert "go-live" not in events


async def test_a_receipt_qad_holds_in_part_needs_attention_with_both_figures(
    setup: Setup,
) -> None:
    state = setup.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": SKU, "quantity": 10}], supplier_id=state.suppliers[0].id
    )
    day = date.fromisoformat(doc["OrderDate"][:10]) + timedelta(days=1)
    order = doc["OrderNumber"]
    await sync_connection(setup.first, "acme", remotes=setup.remotes)  # QAD holds the PO
    async with setup.remotes.qad(
        setup.first, await setup.config()
    ) as qad:  # finance receives 6 by hand
        await qad.post_receipt(
            ReceiptSpec(
                po_number=order,
                packing_slip="KEYED-BY-HAND",
                effective_date=day,
                lines=[ReceiptLineSpec(po_line=1, quantity=Decimal(6))],
            )
        )
    state.receive(doc["ID"], [{"sku": SKU, "quantity": 10}], date=day)
    before = _writes(setup)

    result = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    config = await setup.config()
    assert config.id is not None
    [record] = [r for r in await setup.first.find_records(config.id, order)]
    assert record.status == "attention"
    assert record.reason is not None
    assert "received in QAD by hand 6" in record.reason
    assert "this Cin7 receipt 10" in record.reason
    assert _writes(setup)["receivers"] == before["receivers"]  # no second receipt
    assert result.report.counters.receipts == 0


class KillAfterLineCommit(httpx.AsyncBaseTransport):
    """QAD commits the next PO line, then the process dies (its task is cancelled) before
    the connector reads the answer, leaving a PO header with only some of its lines."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.victim: asyncio.Task[Any] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        committed = request.method != "GET" and request.url.path.endswith("purchaseOrderLinesGrid")
        if committed and self.victim is not None:
            victim, self.victim = self.victim, None
            victim.cancel()
            await asyncio.sleep(0)
        return response


async def test_a_po_the_connector_half_created_before_a_kill_is_finished_not_adopted(
    setup: Setup,
) -> None:
    state = setup.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": SKU, "quantity": 4}, {"sku": "LUB-SPR-400", "quantity": 6}],
        supplier_id=state.suppliers[0].id,
    )
    state.receive(doc["ID"])
    state.invoice(doc["ID"], "HALF-1")
    order = doc["OrderNumber"]
    killing = KillAfterLineCommit(httpx.ASGITransport(app=setup.qad.app))
    remotes = Remotes(cin7_transport=httpx.ASGITransport(app=setup.cin7.app), qad_transport=killing)
    killed = asyncio.create_task(
        sync_connection(setup.first, "acme", remotes=remotes, concurrency=1)
    )
    killing.victim = killed
    with pytest.raises(asyncio.CancelledError):
        await killed
    half = {
        po["purchaseOrderNumber"]: len(po.get("lines") or [])
        for po in setup.qad.tenant().state()["purchaseOrders"]
    }
    assert 1 in half.values(), f"the kill left no half-created PO: {half}"
    victim = next(number for number, lines in half.items() if lines == 1)

    result = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    c = result.report.counters
    assert result.report.status == "succeeded", result.report.error
    assert (c.adopted, c.attention) == (0, 0)
    config = await setup.config()
    assert config.id is not None
    records = {
        r.reference: r for r in await setup.first.list_records(config.id) if r.kind == "purchase"
    }
    assert records[victim].status in ("posted", "waiting", "held"), records[victim].reason
    assert records[order].status == "posted", records[order].reason
    books = json.loads(
        json.dumps(
            {
                "ledger": state.ledger(),
                "qad": setup.qad.tenant().state(),
                "journal": setup.qad.tenant().journal,
            },
            default=str,
        )
    )
    books = Books(books["ledger"], books["qad"], books["journal"])
    for reference in (victim, order):
        entry = books.entry(reference)
        assert entry is not None
        assert landed(books, entry, item_codes=DIVERGENCES.item_codes) == [], reference
    assert audit(books, item_codes=DIVERGENCES.item_codes).duplicates == 0
    assert "adopted" not in await _trail_events(setup, victim)
