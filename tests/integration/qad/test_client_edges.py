"""The REST channel's less travelled paths: stale hashes, lost answers, odd answers, ping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from qad_fakes import (
    Scripted,
    no_sleep,
    ok,
    po_spec,
    reads,
    receipt_spec,
    refusal,
    sandbox_settings,
    supplier_spec,
    writes,
)

from ml_connector.errors import (
    RecordRejected,
    StaleRecord,
    Unavailable,
)
from ml_connector.qad import InvoiceSpec, ItemSpec, MatchLine, QadOperations, SupplierChange
from ml_connector.qad.rest import RestChannel
from ml_connector.sandbox.qad import create_qad_sandbox


@pytest.fixture
def sandbox():  # type: ignore[no-untyped-def]
    return create_qad_sandbox(tenants=("acme",), seed=7)


@pytest.fixture
def script(sandbox) -> Scripted:  # type: ignore[no-untyped-def]
    return Scripted(httpx.ASGITransport(app=sandbox.app))


def _client(sandbox, script: Scripted, **kwargs) -> RestChannel:  # type: ignore[no-untyped-def]
    kwargs.setdefault("sleep", no_sleep)
    return RestChannel(sandbox_settings(sandbox, "http://127.0.0.1"), transport=script, **kwargs)


def lost(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("lost", request=request)


async def test_stale_hash_on_a_supplier_update_is_read_again_and_retried(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(
        writes("/supplierV2s", "U"),
        lambda r: refusal("Record has been changed by another user", "concurrencyHash"),
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        result = await qad.ensure_supplier(supplier_spec(name="Renamed"))
    assert result.updated
    assert sandbox.tenant("acme").state()["suppliers"][0]["name"] == "Renamed"


async def test_a_lost_supplier_update_that_landed_is_not_sent_again(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/supplierV2s", "U"), lost, forward=True)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        result = await qad.ensure_supplier(supplier_spec(name="Renamed"))
    assert result.updated
    by_path = sandbox.tenant("acme").stats()["by_path"]
    assert by_path["POST /api/erp/supplierV2s"] == 2  # the create and the one update


async def test_a_lost_supplier_create_is_read_back(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/supplierV2s", "C"), lost, forward=True)
    script.once(writes("/businessRelationV2s", "C"), lost, forward=True)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        result = await qad.ensure_supplier(supplier_spec())
    assert result.created
    assert len(sandbox.tenant("acme").state()["suppliers"]) == 1


async def test_a_lost_supplier_create_that_never_arrived_is_sent_again(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/supplierV2s", "C"), lost)  # not forwarded: QAD never saw it
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        result = await qad.ensure_supplier(supplier_spec())
    assert result.created
    assert len(sandbox.tenant("acme").state()["suppliers"]) == 1


async def test_business_relation_refusal_is_a_record_rejection(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/businessRelationV2s"), lambda r: refusal("Name is required", "name"))
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        with pytest.raises(RecordRejected, match="Name is required"):
            await qad.ensure_supplier(supplier_spec())


async def test_closed_po_refuses_new_lines(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000001", lines=1)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.close_purchase_order(spec.number)
        unchanged = await qad.ensure_purchase_order(spec)
        with pytest.raises(RecordRejected, match="closed"):
            await qad.ensure_purchase_order(po_spec("ED000001", lines=2))
    assert unchanged.status == "C"


async def test_a_line_holding_another_item_is_a_conflict(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000002", lines=1)
    other = spec.model_copy(
        update={"lines": [spec.lines[0].model_copy(update={"item_code": "BRK-20"})]}
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        with pytest.raises(RecordRejected, match="holds item WID-100"):
            await qad.ensure_purchase_order(other)


async def test_a_quantity_below_the_received_is_refused_by_qad(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000003", lines=1)
    smaller = spec.model_copy(
        update={"lines": [spec.lines[0].model_copy(update={"quantity": Decimal(3)})]}
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        with pytest.raises(RecordRejected, match="below the quantity received"):
            await qad.ensure_purchase_order(smaller)


async def test_a_line_added_meanwhile_is_compared_not_added_twice(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000004", lines=1)
    script.once(
        writes("/purchaseOrderLinesGrid", "C"),
        lambda r: refusal("PO ED000004 line 1 already exists", "purchaseOrderLine", "2040"),
        forward=True,
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        result = await qad.ensure_purchase_order(spec)
    assert result.lines_added == []
    assert [ln.line for ln in result.lines] == [1]


async def test_a_line_whose_commit_never_arrived_is_added_on_the_next_try(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/purchaseOrderLinesGrid", "C"), lost)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        result = await qad.ensure_purchase_order(po_spec("ED000005", lines=2))
    assert result.lines_added == [1, 2]


async def test_no_initialised_line_is_unavailable(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(reads("/purchaseOrderLinesGrid"), lambda r: ok({"purchaseOrderLines": []}))
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        with pytest.raises(Unavailable, match="did not initialise"):
            await qad.ensure_purchase_order(po_spec("ED000006", lines=1))


async def test_receipt_quantity_moved_without_our_slip_is_reported_unverified(
    sandbox, script
) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000007", lines=1)
    tenant = sandbox.tenant("acme")

    def after_post(request: httpx.Request) -> httpx.Response:
        # Someone else's receipt lands between our (silent) post and our read-back.
        tenant.purchase_order("10USA", "ED000007").lines[1].qty_received += 4
        return httpx.Response(
            200,
            json={
                "data": {"purchaseOrderReceipts": [{"receiverNumber": "RC999999"}]},
                "submitResult": {"success": True, "errorSeverity": 0, "errors": []},
            },
        )

    script.once(writes("/purchaseOrderReceipts"), after_post)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified, result.receiver_number) == (True, False, "RC999999")
    assert tenant.state()["receipts"] == []


async def test_a_receipt_refused_but_recorded_is_returned_not_posted_again(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000008", lines=2)
    script.once(
        writes("/purchaseOrderReceipts"),
        lambda r: refusal("Receipt processing did not complete", "packingSlip"),
        forward=True,  # QAD posted it, then answered an error
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        result = await qad.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified) == (True, True)
    receipts = sandbox.tenant("acme").state()["receipts"]
    assert [r["receiverNumber"] for r in receipts] == [result.receiver_number]
    assert sandbox.tenant("acme").stats()["by_path"]["POST /api/erp/purchaseOrderReceipts"] == 1


async def test_an_update_sends_back_the_record_as_read_without_reading_again(
    sandbox, script
) -> None:  # type: ignore[no-untyped-def]
    async with _client(sandbox, script) as channel:
        await QadOperations(channel).ensure_supplier(supplier_spec())
        held = await channel.get_supplier("S1001")
        assert held is not None
        assert held.revision
        reads_before = sandbox.tenant("acme").stats()["by_path"]["GET /api/erp/supplierV2s"]
        await channel.update_supplier(held, SupplierChange(name="Renamed"))
        after = await channel.get_supplier("S1001")
    by_path = sandbox.tenant("acme").stats()["by_path"]
    assert by_path["GET /api/erp/supplierV2s"] == reads_before + 1  # the read-back after only
    assert after is not None
    assert after.name == "Renamed"
    assert after.revision != held.revision


async def test_an_update_from_a_record_no_longer_kept_reads_it_again(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    async with _client(sandbox, script) as first:
        await QadOperations(first).ensure_supplier(supplier_spec())
        held = await first.get_supplier("S1001")
    assert held is not None
    async with _client(sandbox, script) as second:  # keeps nothing the first one read
        await second.update_supplier(held, SupplierChange(currency="EUR"))
        after = await second.get_supplier("S1001")
    assert after is not None
    assert after.currency == "EUR"


async def test_an_update_from_an_old_revision_is_refused_before_writing(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    async with _client(sandbox, script) as first:
        qad = QadOperations(first)
        await qad.ensure_supplier(supplier_spec())
        held = await first.get_supplier("S1001")
        await qad.ensure_supplier(supplier_spec(name="Changed meanwhile"))
    assert held is not None
    updates = sandbox.tenant("acme").stats()["by_path"]["POST /api/erp/supplierV2s"]
    async with _client(sandbox, script) as second:
        with pytest.raises(StaleRecord, match="changed since it was read"):
            await second.update_supplier(held, SupplierChange(name="Renamed"))
    assert sandbox.tenant("acme").stats()["by_path"]["POST /api/erp/supplierV2s"] == updates


def _invoice(po: str) -> InvoiceSpec:
    return InvoiceSpec(
        supplier_code="S1001",
        reference="INV-E",
        invoice_date=dt.date(2026, 3, 12),
        currency="USD",
        amount=Decimal(125),
        po_numbers=[po],
        matching=[
            MatchLine(po_number=po, po_line=1, quantity=Decimal(10), unit_price=Decimal("12.5"))
        ],
    )


async def test_invoice_saved_without_a_voucher_in_the_answer_is_searched(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000008", lines=1)
    script.once(
        writes("/supplierInvoices"),
        lambda r: httpx.Response(
            200,
            json={
                "data": {"supplierInvoices": [{}]},
                "submitResult": {"success": True, "errorSeverity": 0, "errors": []},
            },
        ),
        forward=True,
    )
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        result = await qad.ensure_supplier_invoice(_invoice(spec.number))
    assert result.created
    assert result.voucher


async def test_invoice_whose_post_never_arrived_is_posted_again(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000009", lines=1)
    script.once(writes("/supplierInvoices"), lost)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        await qad.post_receipt_once(receipt_spec(spec))
        result = await qad.ensure_supplier_invoice(_invoice(spec.number))
    assert result.created
    assert len(sandbox.tenant("acme").state()["supplierInvoices"]) == 1


async def test_item_refusal_and_lost_item_create(sandbox, script) -> None:  # type: ignore[no-untyped-def]
    script.once(writes("/items"), lost, forward=True)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        item = await qad.ensure_item(
            ItemSpec(
                code="NEW-1", description="New", uom="EA", gl_account="630", unit_cost=Decimal(1)
            )
        )
        with pytest.raises(RecordRejected):
            await qad.ensure_item(
                ItemSpec(
                    code="NEW-2",
                    description="New",
                    uom="EA",
                    gl_account="NOPE",
                    unit_cost=Decimal(1),
                )
            )
    assert item.code == "NEW-1"


async def test_receipt_posts_that_never_arrive_end_unavailable_without_a_second_receiver(
    sandbox, script
) -> None:  # type: ignore[no-untyped-def]
    spec = po_spec("ED000010", lines=1)
    script.once(writes("/purchaseOrderReceipts"), lost, times=3)
    async with _client(sandbox, script) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        await qad.ensure_purchase_order(spec)
        with pytest.raises(Unavailable, match="3 answers lost") as caught:
            await qad.post_receipt_once(receipt_spec(spec))
    assert caught.value.code is None
    assert sandbox.tenant("acme").state()["receipts"] == []
