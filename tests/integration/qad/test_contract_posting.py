"""Contract: the client's idempotent operations against the QAD sandbox (in-process ASGI)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from qad_fakes import no_sleep, po_spec, receipt_spec, sandbox_client, supplier_spec

from ml_connector.errors import NotFound, RecordRejected
from ml_connector.qad import (
    GlLine,
    InvoiceSpec,
    ItemSpec,
    MatchLine,
    PurchaseOrderLineSpec,
    QadOperations,
    ReceiptSpec,
)
from ml_connector.sandbox.qad import create_qad_sandbox


@pytest.fixture
def sandbox():  # type: ignore[no-untyped-def]
    return create_qad_sandbox(tenants=("acme",), seed=7)


def _state(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.tenant("acme").state()


def invoice_for(po, reference: str = "INV-1", **overrides):  # type: ignore[no-untyped-def]
    matching = [
        MatchLine(
            po_number=po.number, po_line=ln.line, quantity=ln.quantity, unit_price=ln.unit_cost
        )
        for ln in po.lines
    ]
    amount = sum((m.quantity * m.unit_price for m in matching), Decimal(0))
    values = {
        "supplier_code": po.supplier_code,
        "reference": reference,
        "invoice_date": dt.date(2026, 3, 12),
        "due_date": dt.date(2026, 4, 11),
        "currency": "USD",
        "amount": amount,
        "po_numbers": [po.number],
        "matching": matching,
    }
    values.update(overrides)
    return InvoiceSpec(**values)


async def test_supplier_is_created_found_and_updated(sandbox) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        first = await qad.ensure_supplier(supplier_spec())
        again = await qad.ensure_supplier(supplier_spec())
        renamed = await qad.ensure_supplier(
            supplier_spec(name="Acme Fasteners Inc", credit_terms="N60")
        )
        supplier = await channel.get_supplier("S1001")
    assert (first.created, first.updated) == (True, False)
    assert (again.created, again.updated) == (False, False)
    assert (renamed.created, renamed.updated) == (False, True)
    assert supplier is not None
    assert (supplier.name, supplier.credit_terms) == ("Acme Fasteners Inc", "N60")
    assert _state(sandbox)["suppliers"] == [
        {"supplierCode": "S1001", "name": "Acme Fasteners Inc", "currencyCode": "USD"}
    ]


async def test_supplier_refused_with_qads_field_errors(sandbox) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        with pytest.raises(RecordRejected) as caught:
            await qad.ensure_supplier(supplier_spec(currency="XXX"))
    assert any(e.field == "currencyCode" for e in caught.value.errors)
    assert "XXX" in caught.value.message


async def test_purchase_order_created_then_found_then_changed(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000001", lines=3)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        first = await qad.ensure_purchase_order(spec)
        again = await qad.ensure_purchase_order(spec)
        changed_lines = [
            spec.lines[0],
            spec.lines[1].model_copy(update={"quantity": Decimal(25), "unit_cost": Decimal("15")}),
            PurchaseOrderLineSpec(
                line=4, item_code="BRK-40", quantity=Decimal(7), unit_cost=Decimal("2.3")
            ),
        ]
        changed = await qad.ensure_purchase_order(
            spec.model_copy(update={"lines": changed_lines, "remarks": "revised"})
        )
        po = await channel.get_purchase_order("CN000001")
    assert first.created
    assert first.lines_added == [1, 2, 3]
    assert [ln.gl_account for ln in first.lines] == ["630", "630", "630"]
    assert not again.created
    assert (again.lines_added, again.lines_updated, again.lines_closed) == ([], [], [])
    assert changed.header_updated
    assert (changed.lines_added, changed.lines_updated, changed.lines_closed) == ([4], [2], [3])
    assert po is not None
    assert po.remarks == "revised"
    line2 = po.line(2)
    assert line2 is not None
    assert (line2.quantity_ordered, line2.unit_cost) == (25, Decimal(15))
    line3 = po.line(3)
    assert line3 is not None
    assert line3.status == "C"
    assert len(_state(sandbox)["purchaseOrders"]) == 1


async def test_purchase_order_number_taken_by_another_supplier(sandbox) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_supplier(supplier_spec("S2002", name="Other"))
        await qad.ensure_purchase_order(po_spec("CN000002", lines=1))
        with pytest.raises(RecordRejected, match="different order"):
            await qad.ensure_purchase_order(po_spec("CN000002", supplier="S2002", lines=1))


async def test_unknown_item_is_refused_on_the_item_field(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000003", lines=1)
    bad = spec.model_copy(
        update={"lines": [spec.lines[0].model_copy(update={"item_code": "NOPE"})]}
    )
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        with pytest.raises(RecordRejected) as caught:
            await qad.ensure_purchase_order(bad)
    assert caught.value.errors[0].field == "itemCode"


async def test_close_purchase_order(sandbox) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(po_spec("CN000004", lines=2))
        closed = await qad.close_purchase_order("CN000004")
        again = await qad.close_purchase_order("CN000004")
        with pytest.raises(NotFound):
            await qad.close_purchase_order("NOPE0001")
    assert closed.status == "C"
    assert again.status == "C"
    assert all(ln.status == "C" for ln in closed.lines)


async def test_receipt_is_posted_once_and_found_the_second_time(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000005", lines=2)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        first = await qad.post_receipt_once(receipt_spec(spec))
        again = await qad.post_receipt_once(receipt_spec(spec))
        receipts = await channel.find_receipts("CN000005")
        po = await channel.get_purchase_order("CN000005")
    assert first.created
    assert first.verified
    assert first.attempts == 1
    assert not again.created
    assert again.verified
    assert again.receiver_number == first.receiver_number
    assert [r.receiver_number for r in receipts] == [first.receiver_number]
    assert po is not None
    assert [ln.quantity_received for ln in po.lines] == [10, 20]


async def test_over_receipt_is_refused_with_qads_message(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000006", lines=1)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        with pytest.raises(RecordRejected, match="tolerance"):
            await qad.post_receipt_once(
                ReceiptSpec(
                    po_number=spec.number,
                    packing_slip="PS-OVER",
                    effective_date=dt.date(2026, 3, 10),
                    lines=[(1, Decimal(50))],
                )
            )
    assert _state(sandbox)["receipts"] == []


async def test_invoice_refused_before_its_receipt_and_accepted_after(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000007", lines=2)
    invoice = invoice_for(spec)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        with pytest.raises(RecordRejected) as caught:
            await qad.ensure_supplier_invoice(invoice)
        assert "PO CN000007 line 1" in caught.value.message
        assert "received and not yet invoiced 0" in caught.value.message
        assert _state(sandbox)["supplierInvoices"] == []
        await qad.post_receipt_once(receipt_spec(spec))
        result = await qad.ensure_supplier_invoice(invoice)
        read = await channel.get_supplier_invoice(result.voucher, result.posting_year or 0)
        po = await channel.get_purchase_order("CN000007")
    assert result.created
    assert result.matching_status == "Finished"
    assert read is not None
    assert read.reference == "INV-1"
    assert read.amount == invoice.amount
    assert po is not None
    assert [ln.quantity_invoiced for ln in po.lines] == [10, 20]


async def test_partial_receipt_holds_the_invoice_with_the_line_named(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000008", lines=1)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec, fraction=2))
        with pytest.raises(
            RecordRejected,
            match=r"line 1 \(WID-100\): invoiced 10, received and not yet invoiced 5",
        ):
            await qad.ensure_supplier_invoice(invoice_for(spec))


async def test_duplicate_invoice_reference_finds_the_existing_invoice(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000009", lines=2)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        first = await qad.ensure_supplier_invoice(invoice_for(spec))
        second = await qad.ensure_supplier_invoice(invoice_for(spec))
        found = await channel.find_supplier_invoices("S1001", "INV-1")
    assert first.created
    assert not second.created
    assert second.voucher == first.voucher
    assert [inv.voucher for inv in found] == [first.voucher]
    assert len(_state(sandbox)["supplierInvoices"]) == 1


async def test_invoice_with_a_freight_line_on_an_analysed_account(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000010", lines=1)
    base = invoice_for(spec, reference="INV-FRT")
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        with pytest.raises(RecordRejected):
            await qad.ensure_supplier_invoice(
                base.model_copy(
                    update={
                        "amount": base.amount + 40,
                        "gl_lines": [
                            GlLine(gl_code="473", amount=Decimal(40), description="repair")
                        ],
                    }
                )
            )
        ok = await qad.ensure_supplier_invoice(
            base.model_copy(
                update={
                    "amount": base.amount + 40,
                    "gl_lines": [GlLine(gl_code="473", amount=Decimal(40), cost_centre="CC100")],
                }
            )
        )
    assert ok.created


async def test_reference_data_readers(sandbox) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        accounts = {a.code: a for a in await channel.gl_accounts()}
        items = {i.code: i for i in await channel.items()}
        sites = [s.code for s in await channel.sites()]
        terms = {t.code: t for t in await channel.credit_terms()}
        currencies = [c.code for c in await channel.currencies()]
        taxes = {t.code: t for t in await channel.tax_classes()}
        item = await channel.get_item("WID-100")
        missing = await channel.get_item("NOPE")
        created = await qad.ensure_item(
            ItemSpec(
                code="MTR-075",
                description="Electric Motor",
                uom="EA",
                gl_account="630",
                unit_cost=Decimal("289"),
            )
        )
        created_again = await qad.ensure_item(
            ItemSpec(
                code="MTR-075", description="x", uom="EA", gl_account="630", unit_cost=Decimal(1)
            )
        )
        await qad.ensure_supplier(supplier_spec())
        suppliers = await channel.suppliers()
    assert accounts["473"].requires_cost_centre
    assert not accounts["473"].requires_sub_account
    assert accounts["720"].requires_sub_account
    assert accounts["630"].active
    assert accounts["630"].type
    assert "CBL050" in items
    assert "WID-100" in items
    assert "MTR-0.75KW" not in items
    assert sites == ["10-100", "10-200", "10-300"]
    assert terms["N30"].due_days == 30
    assert set(currencies) == {"USD", "EUR", "GBP", "CAD", "AUD"}
    assert taxes["PT825"].percent == Decimal("8.25")
    assert item is not None
    assert item.gl_account == "630"
    assert item.unit_cost == Decimal("12.5")
    assert missing is None
    assert created.code == "MTR-075"
    assert created_again.description == "Electric Motor"
    assert [(s.code, s.currency) for s in suppliers] == [("S1001", "USD")]


async def test_credit_note_with_the_invoices_reference_is_its_own_document(sandbox) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("CN000011", lines=1)
    invoice = invoice_for(spec, reference="DOC-7", due_date=None)
    credit = invoice_for(
        spec,
        reference="DOC-7",
        type="CreditNote",
        amount=Decimal("62.5"),
        matching=[
            MatchLine(
                po_number=spec.number, po_line=1, quantity=Decimal(5), unit_price=Decimal("12.5")
            )
        ],
    )
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        first = await qad.ensure_supplier_invoice(invoice)
        note = await qad.ensure_supplier_invoice(credit)
        note_again = await qad.ensure_supplier_invoice(credit)
        read = await channel.get_supplier_invoice(first.voucher, first.posting_year or 0)
        po = await channel.get_purchase_order(spec.number)
    assert first.created
    assert note.created
    assert not note_again.created
    assert note.voucher != first.voucher
    assert note_again.voucher == note.voucher
    assert read is not None
    assert read.due_date == dt.date(2026, 4, 11)
    assert po is not None
    assert po.lines[0].quantity_invoiced == 5


async def test_one_invoice_number_on_two_pos_is_two_invoices_each_found_by_its_po(sandbox) -> None:  # type: ignore[no-untyped-def]
    first_po, second_po = po_spec("SPLIT-1", lines=1), po_spec("SPLIT-2", lines=1)
    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        for spec in (first_po, second_po):
            await qad.ensure_purchase_order(spec)
            await qad.post_receipt_once(receipt_spec(spec))
        first = await qad.ensure_supplier_invoice(invoice_for(first_po, reference="PAPER-9"))
        second = await qad.ensure_supplier_invoice(invoice_for(second_po, reference="PAPER-9"))
        again = await qad.ensure_supplier_invoice(invoice_for(second_po, reference="PAPER-9"))
        found = await qad.look_up(
            "invoice", {"supplier_code": "S1001", "reference": "PAPER-9", "po_number": "SPLIT-2"}
        )
    assert (first.created, second.created, again.created) == (True, True, False)
    assert first.voucher != second.voucher == again.voucher
    assert found == str(second.voucher)
    assert [w.message for w in second.warnings] == [
        "The reference already exists on another invoice for this supplier"
    ]


async def test_an_invoice_without_a_po_is_found_by_its_description(sandbox) -> None:  # type: ignore[no-untyped-def]
    def service(description: str) -> InvoiceSpec:
        return InvoiceSpec(
            supplier_code="S1001",
            reference="SVC-3",
            invoice_date=dt.date(2026, 3, 12),
            currency="USD",
            amount=Decimal(48),
            description=description,
            gl_lines=[GlLine(gl_code="404", amount=Decimal(48), description="bank fees")],
        )

    async with sandbox_client(sandbox) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        first = await qad.ensure_supplier_invoice(service("Cin7 PO-S1 SVC-3"))
        other = await qad.ensure_supplier_invoice(service("Cin7 PO-S2 SVC-3"))
        again = await qad.ensure_supplier_invoice(service("Cin7 PO-S1 SVC-3"))
        read = await channel.get_supplier_invoice(first.voucher, first.posting_year or 0)
    assert (first.created, other.created, again.created) == (True, True, False)
    assert again.voucher == first.voucher != other.voucher
    assert read is not None
    assert (read.po_numbers, read.description) == ([], "Cin7 PO-S1 SVC-3")
