"""The idempotent operations over the in-memory fake channel: look up before create, read back,
settle lost answers without posting twice, and the look-up that resolves a crash's intent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from qad_fakes import no_sleep, po_spec, receipt_spec, supplier_spec

from ml_connector.errors import NotFound, RecordRejected, StaleRecord, Unavailable
from ml_connector.qad import (
    InvoiceSpec,
    ItemSpec,
    MatchLine,
    PurchaseOrderSpec,
    QadOperations,
    ReceiptLineSpec,
    Supplier,
    SupplierChange,
)
from ml_connector.qad.fake import FakeQadChannel


@pytest.fixture
def fake() -> FakeQadChannel:
    return FakeQadChannel()


@pytest.fixture
def qad(fake: FakeQadChannel) -> QadOperations:
    return QadOperations(fake, sleep=no_sleep)


async def _po_ready(qad: QadOperations, number: str, lines: int = 2) -> PurchaseOrderSpec:
    await qad.ensure_supplier(supplier_spec())
    spec = po_spec(number, lines=lines)
    await qad.ensure_purchase_order(spec)
    return spec  # type: ignore[no-any-return]


def _invoice(po: PurchaseOrderSpec, reference: str = "INV-1", **overrides: object) -> InvoiceSpec:
    matching = [
        MatchLine(
            po_number=po.number,
            po_line=line.line,
            quantity=line.quantity,
            unit_price=line.unit_cost,
        )
        for line in po.lines
    ]
    values: dict[str, object] = {
        "supplier_code": po.supplier_code,
        "reference": reference,
        "invoice_date": dt.date(2026, 3, 12),
        "currency": "USD",
        "amount": sum((m.quantity * m.unit_price for m in matching), Decimal(0)),
        "po_numbers": [po.number],
        "matching": matching,
    }
    values.update(overrides)
    return InvoiceSpec.model_validate(values)


def _half(invoice: InvoiceSpec) -> InvoiceSpec:
    return invoice.model_copy(
        update={
            "matching": [
                m.model_copy(update={"quantity": m.quantity / 2}) for m in invoice.matching
            ],
            "amount": invoice.amount / 2,
        }
    )


# ---- suppliers -----------------------------------------------------------------------------------


async def test_supplier_is_looked_up_before_it_is_created(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    first = await qad.ensure_supplier(supplier_spec())
    again = await qad.ensure_supplier(supplier_spec())
    assert (first.created, again.created, again.updated) == (True, False, False)
    assert fake.writes == ["create_business_relation", "create_supplier"]


async def test_a_changed_supplier_is_updated_not_created(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    await qad.ensure_supplier(supplier_spec())
    result = await qad.ensure_supplier(supplier_spec(name="Acme Fasteners Ltd", credit_terms="N60"))
    held = await fake.get_supplier("S1001")
    assert result.updated
    assert held is not None
    assert (held.name, held.credit_terms) == ("Acme Fasteners Ltd", "N60")
    assert fake.writes.count("create_supplier") == 1


async def test_a_lost_supplier_create_is_read_back_not_sent_again(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    fake.inject("create_supplier", "lost-answer")
    result = await qad.ensure_supplier(supplier_spec())
    assert result.created
    assert fake.writes == ["create_business_relation", "create_supplier"]


async def test_a_supplier_create_that_never_arrived_is_sent_again(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    fake.inject("create_business_relation", "not-sent")
    fake.inject("create_supplier", "not-sent")
    result = await qad.ensure_supplier(supplier_spec())
    assert result.created
    assert fake.writes == ["create_business_relation", "create_supplier"]


async def test_a_supplier_changed_by_another_user_is_read_again_and_compared(
    fake: FakeQadChannel,
) -> None:
    class Contended(FakeQadChannel):
        """Another user renames the supplier between our read and our first update."""

        raced = False

        async def update_supplier(self, held: Supplier, change: SupplierChange) -> None:
            if not self.raced:
                self.raced = True
                current = await self.get_supplier(held.code)
                assert current is not None
                await super().update_supplier(current, SupplierChange(currency="EUR"))
            await super().update_supplier(held, change)

    contended = Contended()
    qad = QadOperations(contended, sleep=no_sleep)
    await qad.ensure_supplier(supplier_spec())
    result = await qad.ensure_supplier(supplier_spec(name="Renamed"))
    held = await contended.get_supplier("S1001")
    assert result.updated
    assert held is not None
    assert (held.name, held.currency) == ("Renamed", "USD")  # compared again after the race
    # Theirs, then ours once: the stale update was compared again and carried both fields.
    assert contended.writes.count("update_supplier") == 2


async def test_an_update_from_an_old_revision_is_stale(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    await qad.ensure_supplier(supplier_spec())
    old = await fake.get_supplier("S1001")
    assert old is not None
    await fake.update_supplier(old, SupplierChange(name="First"))
    with pytest.raises(StaleRecord, match="changed by another user"):
        await fake.update_supplier(old, SupplierChange(name="Second"))


async def test_a_refused_supplier_is_a_record_rejection_naming_the_field(
    qad: QadOperations,
) -> None:
    with pytest.raises(RecordRejected, match="Currency XXX does not exist") as refused:
        await qad.ensure_supplier(supplier_spec(currency="XXX"))
    assert [e.field for e in refused.value.errors] == ["currencyCode"]


# ---- purchase orders -----------------------------------------------------------------------------


async def test_purchase_order_is_created_then_found(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    await qad.ensure_supplier(supplier_spec())
    spec = po_spec("CN000001", lines=3)
    first = await qad.ensure_purchase_order(spec)
    writes = len(fake.writes)
    again = await qad.ensure_purchase_order(spec)
    assert (first.created, first.lines_added) == (True, [1, 2, 3])
    assert (again.created, again.lines_added, again.lines_updated) == (False, [], [])
    assert len(fake.writes) == writes  # nothing written the second time


async def test_changed_lines_are_updated_and_dropped_lines_closed(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "CN000002", lines=3)
    first, second, _ = spec.lines
    changed = spec.model_copy(
        update={
            "remarks": "changed in Cin7",
            "lines": [first.model_copy(update={"quantity": Decimal(12)}), second],
        }
    )
    result = await qad.ensure_purchase_order(changed)
    po = await fake.get_purchase_order("CN000002")
    assert (result.header_updated, result.lines_updated, result.lines_closed) == (True, [1], [3])
    assert po is not None
    assert [(line.line, line.quantity_ordered, line.status) for line in po.lines] == [
        (1, Decimal(12), "O"),
        (2, second.quantity, "O"),
        (3, spec.lines[2].quantity, "C"),
    ]


async def test_a_lost_line_commit_that_landed_is_not_added_twice(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    await qad.ensure_supplier(supplier_spec())
    fake.inject("add_po_line", "lost-answer")
    result = await qad.ensure_purchase_order(po_spec("CN000003", lines=2))
    assert result.lines_added == [1, 2]
    assert fake.writes.count("add_po_line") == 2


async def test_a_po_header_not_echoed_is_read_back(qad: QadOperations) -> None:
    quiet = FakeQadChannel(echoes=False)
    ops = QadOperations(quiet, sleep=no_sleep)
    await ops.ensure_supplier(supplier_spec())
    result = await ops.ensure_purchase_order(po_spec("CN000004", lines=1))
    assert result.created
    assert [line.line for line in result.lines] == [1]


async def test_a_po_number_held_by_another_supplier_is_a_conflict(qad: QadOperations) -> None:
    await _po_ready(qad, "CN000005", lines=1)
    await qad.ensure_supplier(supplier_spec("S2002", name="Other"))
    with pytest.raises(RecordRejected, match="already exists in QAD for a different order"):
        await qad.ensure_purchase_order(po_spec("CN000005", supplier="S2002", lines=1))


async def test_closing_a_po_closes_its_lines_once(fake: FakeQadChannel, qad: QadOperations) -> None:
    spec = await _po_ready(qad, "CN000006")
    closed = await qad.close_purchase_order(spec.number)
    again = await qad.close_purchase_order(spec.number)
    assert closed.status == again.status == "C"
    assert {line.status for line in closed.lines} == {"C"}
    assert fake.writes.count("update_po_header") == 1
    with pytest.raises(RecordRejected, match="is closed in QAD"):
        await qad.ensure_purchase_order(
            spec.model_copy(update={"lines": [*spec.lines, po_spec("X", lines=3).lines[2]]})
        )
    with pytest.raises(NotFound):
        await qad.close_purchase_order("NOPE0001")


async def test_an_unknown_item_is_refused_on_the_item_field(qad: QadOperations) -> None:
    await qad.ensure_supplier(supplier_spec())
    spec = po_spec("CN000007", lines=1)
    bad = spec.model_copy(
        update={"lines": [spec.lines[0].model_copy(update={"item_code": "NOPE"})]}
    )
    with pytest.raises(RecordRejected, match="Item NOPE does not exist") as refused:
        await qad.ensure_purchase_order(bad)
    assert refused.value.errors[0].field == "itemCode"


# ---- receipts ------------------------------------------------------------------------------------


async def test_receipt_posts_once_and_is_found_the_second_time(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000001")
    first = await qad.post_receipt_once(receipt_spec(spec))
    again = await qad.post_receipt_once(receipt_spec(spec))
    po = await fake.get_purchase_order(spec.number)
    assert (first.created, first.verified, again.created) == (True, True, False)
    assert again.receiver_number == first.receiver_number
    assert len(fake.receipts_posted) == 1
    assert po is not None
    assert [line.quantity_received for line in po.lines] == [line.quantity for line in spec.lines]


async def test_the_silent_no_op_is_recovered_by_posting_again(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000002")
    fake.inject("post_receipt", "silent")
    result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified, result.attempts) == (True, True, 2)
    assert len(fake.receipts_posted) == 1
    assert fake.calls_by_operation["post_receipt"] == 2


async def test_a_receipt_that_never_posts_says_so(fake: FakeQadChannel, qad: QadOperations) -> None:
    spec = await _po_ready(qad, "RC000003")
    fake.inject("post_receipt", "silent", times=3)
    with pytest.raises(Unavailable, match="reported success 3 times") as failed:
        await qad.post_receipt_once(receipt_spec(spec))
    assert failed.value.code == "silent-no-op"
    assert fake.receipts_posted == []


async def test_a_lost_receipt_answer_after_the_write_is_not_posted_again(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000004")
    fake.inject("post_receipt", "lost-answer")
    result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified) == (True, True)
    assert fake.calls_by_operation["post_receipt"] == 1
    assert [r.receiver_number for r in fake.receipts_posted] == [result.receiver_number]


async def test_a_receipt_lost_before_it_arrived_is_posted_again(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000005")
    fake.inject("post_receipt", "not-sent", times=2)
    result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.attempts) == (True, 3)
    assert len(fake.receipts_posted) == 1


async def test_a_receipt_refused_but_recorded_is_returned(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000006")
    fake.inject("post_receipt", "error-after-write")
    result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified) == (True, True)
    assert len(fake.receipts_posted) == 1


async def test_an_over_receipt_is_refused_and_posts_nothing(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "RC000007", lines=1)
    twice = ReceiptLineSpec(po_line=1, quantity=spec.lines[0].quantity * 2)
    too_much = receipt_spec(spec).model_copy(update={"lines": [twice]})
    with pytest.raises(RecordRejected, match="over the 10 ordered plus the 10 % tolerance"):
        await qad.post_receipt_once(too_much)
    assert fake.receipts_posted == []


# ---- supplier invoices ---------------------------------------------------------------------------


async def test_invoice_is_refused_until_its_receipt_covers_it(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "IN000001")
    with pytest.raises(RecordRejected, match="invoiced 10, received and not yet invoiced 0"):
        await qad.ensure_supplier_invoice(_invoice(spec))
    await qad.post_receipt_once(receipt_spec(spec))
    result = await qad.ensure_supplier_invoice(_invoice(spec))
    po = await fake.get_purchase_order(spec.number)
    assert (result.created, result.matching_status) == (True, "Finished")
    assert po is not None
    assert [line.quantity_invoiced for line in po.lines] == [line.quantity for line in spec.lines]


async def test_the_reference_is_searched_before_an_invoice_is_created(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "IN000002")
    await qad.post_receipt_once(receipt_spec(spec, fraction=2))
    half = _half(_invoice(spec))
    first = await qad.ensure_supplier_invoice(half)
    second = await qad.ensure_supplier_invoice(half)
    assert (first.created, second.created, second.voucher) == (True, False, first.voucher)
    assert len(fake.invoices_posted) == 1


async def test_qad_accepts_a_duplicate_reference_with_only_a_warning(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "IN000003")
    await qad.post_receipt_once(receipt_spec(spec))
    half = _half(_invoice(spec))
    first = await fake.create_supplier_invoice(half)
    second = await fake.create_supplier_invoice(half)  # the channel posts what it is told
    assert first.warnings == []
    assert [w.severity for w in second.warnings] == ["warning"]
    assert len(await fake.find_supplier_invoices("S1001", "INV-1", "Invoice")) == 2


async def test_a_lost_invoice_answer_is_settled_by_searching(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "IN000004")
    await qad.post_receipt_once(receipt_spec(spec))
    fake.inject("create_supplier_invoice", "lost-answer")
    result = await qad.ensure_supplier_invoice(_invoice(spec))
    assert result.created
    assert len(fake.invoices_posted) == 1
    assert fake.calls_by_operation["create_supplier_invoice"] == 1


async def test_an_invoice_saved_without_a_voucher_in_the_answer_is_searched() -> None:
    quiet = FakeQadChannel(echoes=False)
    qad = QadOperations(quiet, sleep=no_sleep)
    spec = await _po_ready(qad, "IN000005")
    await qad.post_receipt_once(receipt_spec(spec))
    result = await qad.ensure_supplier_invoice(_invoice(spec))
    assert result.voucher == quiet.invoices_posted[0].voucher


async def test_a_credit_note_with_the_invoices_reference_is_its_own_document(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "IN000006", lines=1)
    await qad.post_receipt_once(receipt_spec(spec))
    invoice = await qad.ensure_supplier_invoice(_invoice(spec))
    credit = await qad.ensure_supplier_invoice(_invoice(spec, type="CreditNote"))
    assert credit.created
    assert credit.voucher != invoice.voucher
    po = await fake.get_purchase_order(spec.number)
    assert po is not None
    assert po.lines[0].quantity_invoiced == 0


# ---- items ---------------------------------------------------------------------------------------


async def test_an_item_is_created_once(fake: FakeQadChannel, qad: QadOperations) -> None:
    item = ItemSpec(
        code="NEW-1", description="New", uom="EA", gl_account="1300", unit_cost=Decimal(3)
    )
    fake.inject("create_item", "lost-answer")
    created = await qad.ensure_item(item)
    again = await qad.ensure_item(item)
    assert created.code == again.code == "NEW-1"
    assert fake.writes == ["create_item"]


# ---- after a crash -------------------------------------------------------------------------------


async def test_look_up_finds_what_a_crash_left_posted(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "LK000001", lines=1)
    receipt = await qad.post_receipt_once(receipt_spec(spec))
    invoice = await qad.ensure_supplier_invoice(_invoice(spec, reference="INV-9"))
    slip = {"po_number": spec.number, "packing_slip": f"PS-{spec.number}"}
    on_invoice = {"supplier_code": "S1001", "reference": "INV-9"}
    assert await qad.look_up("receipt", slip) == receipt.receiver_number
    assert await qad.look_up("receipt", {**slip, "packing_slip": "OTHER"}) is None
    assert await qad.look_up("invoice", on_invoice) == str(invoice.voucher)
    assert await qad.look_up("credit_note", on_invoice) is None  # same reference, other type
    assert await qad.look_up("supplier", {"code": "S1001"}) == "S1001"
    assert await qad.look_up("supplier", {"code": "S9999"}) is None
    assert await qad.look_up("item", {"code": "WID-100"}) == "WID-100"
    assert await qad.look_up("purchase_order", {}) is None  # always run again


async def test_look_up_and_ensure_use_the_same_search(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    spec = await _po_ready(qad, "LK000002", lines=1)
    fake.inject("post_receipt", "lost-answer")  # the crash: QAD holds it, we never heard
    await qad.post_receipt_once(receipt_spec(spec))
    calls = fake.calls_by_operation["find_receipts"]
    found = await qad.look_up(
        "receipt", {"po_number": spec.number, "packing_slip": f"PS-{spec.number}"}
    )
    assert found == fake.receipts_posted[0].receiver_number
    assert fake.calls_by_operation["find_receipts"] == calls + 1


async def test_one_invoice_number_on_two_purchases_makes_two_invoices(
    fake: FakeQadChannel, qad: QadOperations
) -> None:
    first = await _po_ready(qad, "IN000007", lines=1)
    second = await _po_ready(qad, "IN000008", lines=1)
    for po in (first, second):
        await qad.post_receipt_once(receipt_spec(po))
    one = await qad.ensure_supplier_invoice(_invoice(first, reference="PAPER-1"))
    two = await qad.ensure_supplier_invoice(_invoice(second, reference="PAPER-1"))
    assert (one.created, two.created) == (True, True)
    assert one.voucher != two.voucher
    assert [i.po_numbers for i in fake.invoices_posted] == [["IN000007"], ["IN000008"]]
