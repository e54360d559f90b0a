"""Contract: lost answers, QAD's silent receipt, 403 and a faulty gateway, over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from qad_fakes import (
    LoseResponses,
    no_sleep,
    po_spec,
    posts_to,
    receipt_spec,
    sandbox_settings,
    supplier_spec,
)

from ml_connector.errors import PermissionDenied, Unavailable
from ml_connector.qad import InvoiceSpec, MatchLine, QadOperations
from ml_connector.qad.rest import RestChannel
from ml_connector.sandbox.qad import create_qad_sandbox
from ml_connector.serve import ServerThread


@pytest.fixture
def served() -> Iterator[tuple[object, str]]:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


def _client(served, transport: httpx.AsyncBaseTransport | None = None, **kwargs) -> RestChannel:  # type: ignore[no-untyped-def]
    sandbox, url = served
    overrides = kwargs.pop("settings_overrides", {})
    kwargs.setdefault("sleep", no_sleep)
    return RestChannel(sandbox_settings(sandbox, url, **overrides), transport=transport, **kwargs)


def _tenant(served):  # type: ignore[no-untyped-def]
    return served[0].tenant("acme")


async def _po_ready(qad: QadOperations, number: str, lines: int = 2):  # type: ignore[no-untyped-def]
    spec = po_spec(number, lines=lines)
    await qad.ensure_supplier(supplier_spec())
    await qad.ensure_purchase_order(spec)
    return spec


def _receivers(served, slip: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in _tenant(served).state()["receipts"] if r["packingSlip"] == slip]


async def test_receipt_retried_after_a_lost_response_exists_once(served) -> None:  # type: ignore[no-untyped-def]
    lossy = LoseResponses(httpx.AsyncHTTPTransport(), posts_to("/purchaseOrderReceipts"))
    async with _client(served, lossy) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        spec = await _po_ready(qad, "LR000001")
        result = await qad.post_receipt_once(receipt_spec(spec))
        again = await qad.post_receipt_once(receipt_spec(spec))
        po = await channel.get_purchase_order(spec.number)
    assert lossy.hits == 1
    assert result.created
    assert result.verified
    assert result.attempts == 1
    assert not again.created
    assert again.receiver_number == result.receiver_number
    assert len(_receivers(served, "PS-LR000001")) == 1
    assert po is not None
    assert [ln.quantity_received for ln in po.lines] == [10, 20]
    by_path = _tenant(served).stats()["by_path"]
    assert by_path["POST /api/erp/purchaseOrderReceipts"] == 1


async def test_receipt_whose_502_came_after_posting_exists_once(served) -> None:  # type: ignore[no-untyped-def]
    async with _client(served) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        spec = await _po_ready(qad, "LR000002")
        _tenant(served).set_faults(lost_response_rate=1)
        result = await qad.post_receipt_once(receipt_spec(spec))
        _tenant(served).set_faults(lost_response_rate=0)
    assert result.created
    assert result.verified
    assert len(_receivers(served, "PS-LR000002")) == 1


async def test_silent_receipt_is_detected_and_posted_again(served) -> None:  # type: ignore[no-untyped-def]
    tenant = _tenant(served)
    # The first receipt post is QAD's silent no-op; the fault is lifted once it has answered.
    flip = LoseResponses(
        httpx.AsyncHTTPTransport(),
        posts_to("/purchaseOrderReceipts"),
        after=lambda: tenant.set_faults(silent_receipt_rate=0),
        lose=False,
    )
    async with _client(served, flip) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        spec = await _po_ready(qad, "SR000001")
        tenant.set_faults(silent_receipt_rate=1)
        result = await qad.post_receipt_once(receipt_spec(spec))
        po = await channel.get_purchase_order(spec.number)
    assert result.created
    assert result.verified
    assert result.attempts == 2
    assert len(_receivers(served, "PS-SR000001")) == 1
    assert po is not None
    assert [ln.quantity_received for ln in po.lines] == [10, 20]
    assert tenant.stats()["by_path"]["POST /api/erp/purchaseOrderReceipts"] == 2


async def test_a_receipt_qad_never_records_fails_after_bounded_attempts(served) -> None:  # type: ignore[no-untyped-def]
    tenant = _tenant(served)
    async with _client(served) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        spec = await _po_ready(qad, "SR000002")
        tenant.set_faults(silent_receipt_rate=1)
        with pytest.raises(Unavailable, match="recorded nothing") as caught:
            await qad.post_receipt_once(receipt_spec(spec))
    assert caught.value.code == "silent-no-op"
    assert tenant.stats()["by_path"]["POST /api/erp/purchaseOrderReceipts"] == 3
    assert _receivers(served, "PS-SR000002") == []


async def test_invoice_whose_answer_was_lost_exists_once(served) -> None:  # type: ignore[no-untyped-def]
    lossy = LoseResponses(httpx.AsyncHTTPTransport(), posts_to("/supplierInvoices"))
    async with _client(served, lossy) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        spec = await _po_ready(qad, "LI000001", lines=1)
        await qad.post_receipt_once(receipt_spec(spec))
        invoice = InvoiceSpec(
            supplier_code="S1001",
            reference="INV-LOST",
            invoice_date=dt.date(2026, 3, 12),
            currency="USD",
            amount=Decimal(125),
            po_numbers=[spec.number],
            matching=[
                MatchLine(
                    po_number=spec.number,
                    po_line=1,
                    quantity=Decimal(10),
                    unit_price=Decimal("12.5"),
                )
            ],
        )
        result = await qad.ensure_supplier_invoice(invoice)
    assert lossy.hits == 1
    assert result.created
    assert result.voucher
    invoices = _tenant(served).state()["supplierInvoices"]
    assert [i["invoiceReference"] for i in invoices] == ["INV-LOST"]


async def test_purchase_order_whose_answers_were_lost_exists_once(served) -> None:  # type: ignore[no-untyped-def]
    lossy = LoseResponses(
        httpx.AsyncHTTPTransport(),
        lambda r: (
            r.method == "POST"
            and r.url.path.endswith(("/purchaseOrderHeaders", "/purchaseOrderLinesGrid"))
        ),
        times=3,
    )
    async with _client(served, lossy) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        result = await qad.ensure_purchase_order(po_spec("LP000001", lines=3))
    assert lossy.hits == 3
    assert result.created
    assert [ln.line for ln in result.lines] == [1, 2, 3]
    pos = _tenant(served).state()["purchaseOrders"]
    assert [(p["purchaseOrderNumber"], len(p["lines"])) for p in pos] == [("LP000001", 3)]


async def test_403_is_not_retried(served) -> None:  # type: ignore[no-untyped-def]
    tenant = _tenant(served)
    async with _client(served, settings_overrides={"username": "viewer"}) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        with pytest.raises(PermissionDenied, match="Access is denied"):
            await qad.ensure_supplier(supplier_spec())
    stats = tenant.stats()
    assert stats["forbidden"] == 1
    assert stats["by_path"]["POST /api/erp/businessRelationV2s"] == 1
    assert "POST /api/erp/supplierV2s" not in stats["by_path"]
    assert tenant.state()["suppliers"] == []


async def test_a_faulty_gateway_still_gives_exactly_one_of_everything(served) -> None:  # type: ignore[no-untyped-def]
    tenant = _tenant(served)
    numbers = [f"CH{n:06d}" for n in range(3)]
    async with _client(served, retries=8) as channel:
        qad = QadOperations(channel, sleep=no_sleep)
        await qad.ensure_supplier(supplier_spec())
        tenant.set_faults(error_rate=0.15, html_rate=0.1, lost_response_rate=0.15)
        for number in numbers:
            spec = po_spec(number, lines=2)
            await qad.ensure_purchase_order(spec)
            await qad.post_receipt_once(receipt_spec(spec))
            await qad.ensure_supplier_invoice(
                InvoiceSpec(
                    supplier_code="S1001",
                    reference=f"INV-{number}",
                    invoice_date=dt.date(2026, 3, 12),
                    currency="USD",
                    amount=Decimal("420"),
                    po_numbers=[number],
                    matching=[
                        MatchLine(
                            po_number=number,
                            po_line=ln.line,
                            quantity=ln.quantity,
                            unit_price=ln.unit_cost,
                        )
                        for ln in spec.lines
                    ],
                )
            )
        tenant.set_faults(error_rate=0, html_rate=0, lost_response_rate=0)
    state = tenant.state()
    assert sorted(p["purchaseOrderNumber"] for p in state["purchaseOrders"]) == numbers
    assert all(len(p["lines"]) == 2 for p in state["purchaseOrders"])
    assert sorted(r["packingSlip"] for r in state["receipts"]) == [f"PS-{n}" for n in numbers]
    assert sorted(i["invoiceReference"] for i in state["supplierInvoices"]) == [
        f"INV-{n}" for n in numbers
    ]
    assert all(
        ln["quantityReceived"] == ln["quantityOrdered"] == ln["quantityInvoiced"]
        for p in state["purchaseOrders"]
        for ln in p["lines"]
    )
