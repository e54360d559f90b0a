"""Contract: the QXtend channel (and the routing composite) against the QAD sandbox, in-process.

The operations above the seam are the same as for REST; what is checked here is that QDocs carry
what QAD needs, that every quirk of S6 is settled by reading back, and that the calls go where
the profile says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from qad_fakes import (
    LoseResponses,
    no_sleep,
    po_spec,
    receipt_spec,
    sandbox_settings,
    supplier_spec,
)

from ml_connector.errors import ConfigError, PermissionDenied, RecordRejected, Unavailable
from ml_connector.qad import InvoiceSpec, MatchLine, QadOperations
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.profile import BUILT_IN, QadProfile, parse_profile
from ml_connector.qad.qxtend.transport import QxtendNotExposed
from ml_connector.qad.routing import RoutedChannel, build_channel
from ml_connector.sandbox.qad import QadSandbox, QadTenant, create_qad_sandbox

QDOC = "POST /qxi/services/QdocWebService"


@pytest.fixture
def sandbox() -> QadSandbox:
    return create_qad_sandbox(tenants=("acme",), seed=7)


@pytest.fixture
def tenant(sandbox: QadSandbox) -> QadTenant:
    return sandbox.tenant("acme")


def channel(
    sandbox: QadSandbox,
    profile: QadProfile | str = "qxtend",
    transport: httpx.AsyncBaseTransport | None = None,
    **settings: Any,
) -> QadChannel:
    chosen = BUILT_IN[profile] if isinstance(profile, str) else profile
    return build_channel(
        sandbox_settings(sandbox, "http://127.0.0.1", **settings),
        chosen,
        transport=transport or httpx.ASGITransport(app=sandbox.app),
        sleep=no_sleep,
    )


def qdocs(tenant: QadTenant) -> dict[str, int]:
    return {
        path.split()[-1]: count
        for path, count in tenant.stats()["by_path"].items()
        if path.startswith(QDOC)
    }


def rest_writes(tenant: QadTenant) -> dict[str, int]:
    return {
        path: count
        for path, count in tenant.stats()["by_path"].items()
        if path.startswith("POST /api/")
    }


def invoice_for(po: Any, reference: str = "INV-1", **overrides: Any) -> InvoiceSpec:
    matching = [
        MatchLine(
            po_number=po.number, po_line=ln.line, quantity=ln.quantity, unit_price=ln.unit_cost
        )
        for ln in po.lines
    ]
    amount = sum((m.quantity * m.unit_price for m in matching), Decimal(0))
    values: dict[str, Any] = {
        "supplier_code": po.supplier_code,
        "reference": reference,
        "invoice_date": dt.date(2026, 3, 12),
        "currency": "USD",
        "amount": amount,
        "po_numbers": [po.number],
        "matching": matching,
    }
    values.update(overrides)
    return InvoiceSpec(**values)


def test_the_rest_profile_builds_the_plain_rest_channel(sandbox: QadSandbox) -> None:
    assert not isinstance(channel(sandbox, "rest"), RoutedChannel)
    routed = channel(sandbox, "mixed")
    assert isinstance(routed, RoutedChannel)
    kinds = {name: type(part).__name__ for name, part in routed.routes().items()}
    assert kinds == {
        "suppliers": "RestChannel",
        "purchase_orders": "RestChannel",
        "receipts": "QxtendChannel",
        "invoices": "QxtendChannel",
        "reference": "RestChannel",
    }


async def test_a_po_is_one_qdoc_with_its_lines_and_changes_are_one_qdoc_each(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000001", lines=5)
    async with channel(sandbox) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        tenant.reset_stats()
        first = await ops.ensure_purchase_order(spec)
        assert qdocs(tenant) == {"maintainPurchaseOrder": 1}
        assert rest_writes(tenant) == {}
        again = await ops.ensure_purchase_order(spec)
        assert qdocs(tenant) == {"maintainPurchaseOrder": 1}
        changed = spec.model_copy(
            update={
                "remarks": "rush",
                "lines": [
                    spec.lines[0].model_copy(update={"quantity": Decimal(12)}),
                    *spec.lines[1:4],
                ],
            }
        )
        updated = await ops.ensure_purchase_order(changed)
        closed = await ops.close_purchase_order(spec.number)
    assert (first.created, first.lines_added, len(first.lines)) == (True, [1, 2, 3, 4, 5], 5)
    assert (again.created, again.lines_updated) == (False, [])
    assert (updated.header_updated, updated.lines_updated, updated.lines_closed) == (
        True,
        [1],
        [5],
    )
    assert closed.status == "C"
    po = tenant.purchase_order(tenant.domain, spec.number)
    assert po is not None
    assert (po.remarks, po.lines[1].qty_ordered, po.lines[5].status) == ("rush", 12, "C")
    assert po.lines[1].gl_account == tenant.items["WID-100"].gl_account  # the UI's defaulting
    assert qdocs(tenant) == {"maintainPurchaseOrder": 5}  # header, line 1, line 5, close


async def test_a_refused_po_line_rolls_the_whole_qdoc_back(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000002", lines=2)
    bad = spec.model_copy(
        update={"lines": [spec.lines[0], spec.lines[1].model_copy(update={"item_code": "NOPE"})]}
    )
    async with channel(sandbox) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        with pytest.raises(RecordRejected, match="Item NOPE does not exist"):
            await ops.ensure_purchase_order(bad)
    assert tenant.purchase_order(tenant.domain, spec.number) is None


async def test_a_receipt_is_read_back_and_found_by_its_packing_slip(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000003", lines=3)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        tenant.reset_stats()
        posted = await ops.post_receipt_once(receipt_spec(spec))
        again = await ops.post_receipt_once(receipt_spec(spec))
        found = await qad.find_receipts(spec.number, f"PS-{spec.number}")
    assert (posted.created, posted.verified, posted.receiver_number) == (True, True, "RC000001")
    assert (again.created, again.verified) == (False, True)
    assert [(r.receiver_number, len(r.lines)) for r in found] == [("RC000001", 3)]
    assert qdocs(tenant) == {"receivePurchaseOrder": 1}
    assert "POST /api/erp/purchaseOrderReceipts" not in tenant.stats()["by_path"]


async def test_a_silent_receipt_is_posted_again_and_an_error_that_posted_is_taken(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    first, second = po_spec("QX000004", lines=2), po_spec("QX000005", lines=2)
    tenant.set_faults(qdoc_silent_receipt_rate=1)
    heal = LoseResponses(
        httpx.ASGITransport(app=sandbox.app),
        lambda r: r.url.path.endswith("QdocWebService") and b"receivePurchaseOrder" in r.content,
        lose=False,
        after=lambda: tenant.set_faults(qdoc_silent_receipt_rate=0),
    )
    async with channel(sandbox, "mixed", transport=heal) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(first)
        await ops.ensure_purchase_order(second)
        retried = await ops.post_receipt_once(receipt_spec(first))
        tenant.set_faults(qdoc_posted_error_rate=1)
        refused_but_posted = await ops.post_receipt_once(receipt_spec(second))
    assert (retried.created, retried.verified, retried.attempts) == (True, True, 2)
    assert (refused_but_posted.created, refused_but_posted.verified) == (True, True)
    assert refused_but_posted.attempts == 1
    assert [r["packingSlip"] for r in tenant.state()["receipts"]] == [
        "PS-QX000004",
        "PS-QX000005",
    ]


async def test_a_receipt_that_never_posts_is_reported_not_repeated_forever(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000006", lines=1)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        tenant.set_faults(qdoc_silent_receipt_rate=1)
        with pytest.raises(Unavailable, match="recorded nothing"):
            await ops.post_receipt_once(receipt_spec(spec))
    assert qdocs(tenant) == {"receivePurchaseOrder": 3}
    assert tenant.receivers == {}


async def test_a_lost_receipt_answer_is_settled_by_the_read_back(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000007", lines=2)
    lose = LoseResponses(
        httpx.ASGITransport(app=sandbox.app),
        lambda r: r.url.path.endswith("QdocWebService") and b"receivePurchaseOrder" in r.content,
    )
    async with channel(sandbox, "mixed", transport=lose) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        result = await ops.post_receipt_once(receipt_spec(spec))
    assert (result.created, result.verified, lose.hits) == (True, True, 1)
    assert len(tenant.receivers) == 1


async def test_an_echoed_receiver_number_is_used_but_the_read_back_decides(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000008", lines=1)
    tenant.set_faults(qdoc_no_receiver_rate=0)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        number = await qad.post_receipt(receipt_spec(spec, slip="PS-A"))
        result = await ops.post_receipt_once(receipt_spec(spec, slip="PS-A"))
    assert number == "RC000001"  # asked for response detail; the sandbox echoes it
    assert (result.created, result.receiver_number) == (False, "RC000001")
    assert len(tenant.receivers) == 1


async def test_an_invoice_carries_its_tax_lines_and_is_found_before_and_after(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000009", lines=2)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        await ops.post_receipt_once(receipt_spec(spec))
        base = invoice_for(spec)
        taxed = base.model_copy(
            update={"amount": base.amount + Decimal("7.25"), "tax_amount": Decimal("7.25")}
        )
        tenant.reset_stats()
        created = await ops.ensure_supplier_invoice(taxed)
        again = await ops.ensure_supplier_invoice(taxed)
        found = await qad.get_supplier_invoice(created.voucher, 2026, "SUPINV")
    assert (created.created, created.voucher, created.matching_status) == (True, 1, "Finished")
    assert (again.created, again.voucher) == (False, 1)
    assert found is not None
    assert (found.amount, found.tax_amount, found.reference) == (
        taxed.amount,
        Decimal("7.25"),
        "INV-1",
    )
    assert qdocs(tenant) == {"bcinvoice": 1}
    assert tenant.invoices[1].tax_amount == Decimal("7.25")
    assert found.status_code == "AP-INITIAL"
    assert [(m.po_line, m.quantity, m.gl_account) for m in found.matched] == [
        (line.line, line.quantity, tenant.items[line.item_code].gl_account) for line in spec.lines
    ]
    po = tenant.purchase_order(tenant.domain, spec.number)
    assert po is not None
    assert [line.qty_invoiced for line in po.lines.values()] == [s.quantity for s in spec.lines]


async def test_a_refused_match_is_qads_message_and_nothing_is_saved(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000010", lines=1)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        with pytest.raises(RecordRejected, match="received and not yet invoiced 0"):
            await ops.ensure_supplier_invoice(invoice_for(spec))
    assert tenant.invoices == {}


async def test_the_profile_sets_rate_type_status_and_rounding(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    profile = parse_profile(
        {
            "channels": {"receipts": "qxtend", "invoices": "qxtend"},
            "defaults": {"exchange_rate_type": "ACCOUNTING", "invoice_status": "AP-NOALLOC"},
        },
        name="acme.toml",
    )
    spec = po_spec("QX000011", lines=1).model_copy(update={"currency": "EUR"})
    async with channel(sandbox, profile) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec(currency="EUR"))
        await ops.ensure_purchase_order(spec)
        await ops.post_receipt_once(receipt_spec(spec))
        await ops.ensure_supplier_invoice(
            invoice_for(spec, currency="EUR", exchange_rate=Decimal("9.99"))
        )
    invoice = tenant.invoices[1]
    assert invoice.exchange_rate == tenant.currencies["EUR"]  # QAD's rate, not Cin7's 9.99
    assert invoice.status_code == "AP-NOALLOC"


async def test_a_tenant_without_qxtend_says_so_on_ping_and_on_posting(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    tenant.qxtend_exposed = False
    spec = po_spec("QX000012", lines=1)
    async with channel(sandbox, "mixed") as qad:
        with pytest.raises(QxtendNotExposed, match="use the rest profile"):
            await qad.ping()
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        await ops.ensure_purchase_order(spec)
        with pytest.raises(ConfigError, match="does not expose QXtend"):
            await ops.post_receipt_once(receipt_spec(spec))
    assert tenant.receivers == {}


async def test_a_reader_may_not_post_qdocs(sandbox: QadSandbox, tenant: QadTenant) -> None:
    spec = po_spec("QX000013", lines=1)
    async with channel(sandbox) as writer:
        await QadOperations(writer, sleep=no_sleep).ensure_supplier(supplier_spec())
    async with channel(sandbox, username="viewer", password=tenant.password) as qad:
        with pytest.raises(PermissionDenied, match="does not have access"):
            await QadOperations(qad, sleep=no_sleep).ensure_purchase_order(spec)


async def test_calls_add_up_rest_and_qdocs_once_each(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    spec = po_spec("QX000014", lines=5)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        before, server_before = qad.calls, tenant.stats()["calls"]
        await ops.ensure_purchase_order(spec)
        await ops.post_receipt_once(receipt_spec(spec))
        assert qad.calls - before == tenant.stats()["calls"] - server_before


async def test_one_invoice_number_on_two_purchases_is_two_invoices(
    sandbox: QadSandbox, tenant: QadTenant
) -> None:
    first, second = po_spec("QX000015", lines=1), po_spec("QX000016", lines=1)
    async with channel(sandbox, "mixed") as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        for spec in (first, second):
            await ops.ensure_purchase_order(spec)
            await ops.post_receipt_once(receipt_spec(spec))
        one = await ops.ensure_supplier_invoice(invoice_for(first, "PAPER-7"))
        two = await ops.ensure_supplier_invoice(invoice_for(second, "PAPER-7"))
        again = await ops.ensure_supplier_invoice(invoice_for(second, "PAPER-7"))
    assert (one.created, two.created, again.created) == (True, True, False)
    assert (one.voucher, two.voucher, again.voucher) == (1, 2, 2)
    assert [inv.purchase_orders for inv in tenant.invoices.values()] == [
        [("10USA", "QX000015")],
        [("10USA", "QX000016")],
    ]
