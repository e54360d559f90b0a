"""A look-up's answer stands in for the next operation's first read of the same document, once
and briefly (`QadOperations`): never hiding a PO keyed since, never outliving its pass."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from qad_fakes import no_sleep, po_spec, receipt_spec, supplier_spec

from ml_connector.qad import InvoiceSpec, MatchLine, PurchaseOrderSpec, QadOperations
from ml_connector.qad.fake import FakeQadChannel
from ml_connector.qad.operations import LOOK_UP_REUSE_S
from ml_connector.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel() -> FakeQadChannel:
    return FakeQadChannel()


@pytest.fixture
async def qad(channel: FakeQadChannel, clock: FakeClock) -> QadOperations:
    ops = QadOperations(channel, sleep=no_sleep, clock=clock)
    await ops.ensure_supplier(supplier_spec())
    return ops


def reads(channel: FakeQadChannel) -> int:
    return channel.calls_by_operation["get_purchase_order"]


async def test_a_po_found_absent_is_created_without_reading_it_again(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec: PurchaseOrderSpec = po_spec("PO-1", lines=2)
    assert await qad.adoptable_purchase_order("PO-1") is None
    before = reads(channel)

    result = await qad.ensure_purchase_order(spec)

    assert result.created
    assert result.lines_added == [1, 2]
    assert reads(channel) == before + 1  # only the read-back after the lines


async def test_a_po_keyed_since_the_look_up_is_found_not_created_twice(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec: PurchaseOrderSpec = po_spec("PO-1", lines=2)
    assert await qad.adoptable_purchase_order("PO-1") is None
    await QadOperations(channel, sleep=no_sleep).ensure_purchase_order(spec)  # finance, by hand
    writes = len(channel.writes)

    result = await qad.ensure_purchase_order(spec)

    assert not result.created
    assert result.lines_added == []
    assert [line.line for line in result.lines] == [1, 2]
    assert len(channel.writes) == writes  # the refused create wrote nothing


async def test_a_look_up_is_used_once(qad: QadOperations, channel: FakeQadChannel) -> None:
    assert await qad.adoptable_purchase_order("PO-1") is None
    await qad.ensure_purchase_order(po_spec("PO-1", lines=1))
    before = reads(channel)

    again = await qad.ensure_purchase_order(po_spec("PO-1", lines=1))

    assert not again.created
    assert reads(channel) == before + 1  # read, found, nothing to change


async def test_an_old_look_up_is_not_used(
    qad: QadOperations, channel: FakeQadChannel, clock: FakeClock
) -> None:
    assert await qad.adoptable_purchase_order("PO-1") is None
    clock.advance(LOOK_UP_REUSE_S + 1)
    before = reads(channel)

    await qad.ensure_purchase_order(po_spec("PO-1", lines=1))

    assert reads(channel) == before + 2  # looked up again before the create, then read back


async def test_a_new_pass_starts_with_nothing_kept(
    qad: QadOperations, channel: FakeQadChannel, clock: FakeClock
) -> None:
    assert await qad.adoptable_purchase_order("PO-1") is None
    next_pass = QadOperations(channel, sleep=no_sleep, clock=clock)
    before = reads(channel)

    await next_pass.ensure_purchase_order(po_spec("PO-1", lines=1))

    assert reads(channel) == before + 2


async def test_a_receipt_takes_its_baseline_from_the_look_up(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec: PurchaseOrderSpec = po_spec("PO-1", lines=2)
    await qad.ensure_purchase_order(spec)
    wanted = {line.line: line.quantity for line in spec.lines}
    assert await qad.adoptable_receipt("PO-1", wanted, {}) is None
    before = reads(channel)

    result = await qad.post_receipt_once(receipt_spec(spec))

    assert result.created
    assert result.verified  # the kept quantities were the baseline: it rose by exactly these
    assert reads(channel) == before + 1  # the read after posting only


async def test_another_operation_on_the_po_drops_the_kept_look_up(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec: PurchaseOrderSpec = po_spec("PO-1", lines=2)
    await qad.ensure_purchase_order(spec)
    half = {line.line: line.quantity / 2 for line in spec.lines}
    assert await qad.adoptable_receipt("PO-1", half, {}) is None
    await qad.post_receipt_once(receipt_spec(spec, "FIRST", fraction=2))  # uses it
    assert await qad.adoptable_receipt("PO-1", half, half) is None
    await qad.ensure_purchase_order(spec)  # touches the PO: what was kept is gone
    before = reads(channel)

    result = await qad.post_receipt_once(receipt_spec(spec, "SECOND", fraction=2))

    assert result.verified
    assert reads(channel) == before + 2  # a fresh baseline, then the read after posting
    received = (await qad.adoptable_purchase_order("PO-1")).found["lines"]  # type: ignore[union-attr]
    assert [Decimal(line["received"]) for line in received] == [ln.quantity for ln in spec.lines]


def invoice_of(po: PurchaseOrderSpec, reference: str) -> InvoiceSpec:
    matching = [
        MatchLine(
            po_number=po.number, po_line=ln.line, quantity=ln.quantity, unit_price=ln.unit_cost
        )
        for ln in po.lines
    ]
    return InvoiceSpec(
        supplier_code=po.supplier_code,
        reference=reference,
        invoice_date=dt.date(2026, 3, 12),
        currency="USD",
        amount=sum((m.quantity * m.unit_price for m in matching), Decimal(0)),
        po_numbers=[po.number],
        matching=matching,
    )


async def _received(qad: QadOperations) -> PurchaseOrderSpec:
    spec: PurchaseOrderSpec = po_spec("PO-1", lines=2)
    await qad.ensure_purchase_order(spec)
    await qad.post_receipt_once(receipt_spec(spec))
    return spec


async def test_an_invoice_found_absent_is_created_without_searching_again(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec = await _received(qad)
    invoice = invoice_of(spec, "INV-1")
    assert await qad.adoptable_invoice("S1001", "INV-1", "Invoice", "PO-1") is None
    searches = channel.calls_by_operation["find_supplier_invoices"]

    result = await qad.ensure_supplier_invoice(invoice)

    assert result.created
    assert channel.calls_by_operation["find_supplier_invoices"] == searches
    assert len(channel.invoices_posted) == 1


async def test_an_invoice_search_for_another_po_is_not_taken_for_this_one(
    qad: QadOperations, channel: FakeQadChannel
) -> None:
    spec = await _received(qad)
    await qad.ensure_supplier_invoice(invoice_of(spec, "INV-1"))  # QAD holds it already
    assert await qad.adoptable_invoice("S1001", "INV-1", "Invoice", "PO-2") is None

    again = await qad.ensure_supplier_invoice(invoice_of(spec, "INV-1"))

    assert not again.created  # searched before creating: found, not keyed twice
    assert len(channel.invoices_posted) == 1


async def test_an_old_invoice_search_is_made_again(
    qad: QadOperations, channel: FakeQadChannel, clock: FakeClock
) -> None:
    spec = await _received(qad)
    assert await qad.adoptable_invoice("S1001", "INV-1", "Invoice", "PO-1") is None
    await QadOperations(channel, sleep=no_sleep).ensure_supplier_invoice(invoice_of(spec, "INV-1"))
    clock.advance(LOOK_UP_REUSE_S + 1)

    again = await qad.ensure_supplier_invoice(invoice_of(spec, "INV-1"))

    assert not again.created
    assert len(channel.invoices_posted) == 1
