"""Contract: a profile's `dates` and `[defaults]` reach the REST writes, and QAD takes them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from qad_fakes import no_sleep, po_spec, receipt_spec, sandbox_settings, supplier_spec

from ml_connector.errors import RecordRejected
from ml_connector.qad import QadOperations
from ml_connector.qad.profile import parse_profile
from ml_connector.qad.routing import build_channel, with_profile
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox


class Recording(httpx.AsyncBaseTransport):
    """Forwards to the sandbox and keeps every JSON body posted to `/api/**`, by path end."""

    def __init__(self, sandbox: QadSandbox) -> None:
        self._inner = httpx.ASGITransport(app=sandbox.app)
        self.bodies: dict[str, list[Any]] = {}
        self.views: dict[str, set[str | None]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "/api/" in request.url.path:
            key = request.url.path.rsplit("/", 1)[-1]
            self.bodies.setdefault(key, []).append(json.loads(request.content))
            self.views.setdefault(key, set()).add(request.url.params.get("viewUri"))
        return await self._inner.handle_async_request(request)


PROFILE = {
    "dates": "datetime",
    "defaults": {
        "daybook_set": "DBS-AP",
        "bill_to": "10-200",
        "exchange_rate_type": "ACCOUNTING",
        "invoice_status": "AP-NOALLOC",
        "supplier_gl_profiles": {"invoice_control": "AP-CTRL", "purchase_account": "PURCH"},
    },
}


@pytest.fixture
def sandbox() -> QadSandbox:
    return create_qad_sandbox(tenants=("acme",), seed=7)


async def test_defaults_and_iso_date_times_go_out_on_rest_writes_and_are_taken(
    sandbox: QadSandbox,
) -> None:
    recording = Recording(sandbox)
    profile = parse_profile(PROFILE, name="acme.toml")
    settings = sandbox_settings(sandbox, "http://127.0.0.1")
    spec = po_spec("PR000001", lines=2).model_copy(update={"currency": "EUR"})
    async with build_channel(settings, profile, transport=recording, sleep=no_sleep) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec(currency="EUR"))
        await ops.ensure_purchase_order(spec)
        await ops.post_receipt_once(receipt_spec(spec))
    # Observed writes carry their business component's view ([CODE] S1, reference §4).
    assert {k: recording.views[k] for k in ("businessRelationV2s", "supplierV2s")} == {
        "businessRelationV2s": {"urn:be:com.qad.base.address.IBusinessRelationV2"},
        "supplierV2s": {"urn:be:com.qad.base.supplier.ISupplierV2"},
    }
    assert recording.views["purchaseOrderHeaders"] == {
        "urn:be:com.qad.purchasing.purchaseorders.IPurchaseOrderHeader"
    }
    supplier = recording.bodies["supplierV2s"][0]["supplierV2s"][0]
    assert supplier["invoiceStatusCode"] == "AP-NOALLOC"
    assert (supplier["invoiceControlGLProfileCode"], supplier["purchaseAccountGLProfileCode"]) == (
        "AP-CTRL",
        "PURCH",
    )
    assert "creditNoteControlGLProfileCode" not in supplier
    header = recording.bodies["purchaseOrderHeaders"][0]["purchaseOrderHeaders"][0]
    assert {k: header.get(k) for k in ("daybookSetCode", "billToCode", "exchangeRateType")} == {
        "daybookSetCode": "DBS-AP",
        "billToCode": "10-200",
        "exchangeRateType": "ACCOUNTING",
    }
    assert "exchangeRate" not in header
    assert header["orderDate"] == "2026-03-02T00:00:00.000Z"
    receipt = recording.bodies["purchaseOrderReceipts"][0]["purchaseOrderReceipts"][0]
    assert receipt["effectiveDate"] == "2026-03-10T00:00:00.000Z"
    tenant = sandbox.tenant("acme")
    po = tenant.purchase_order(tenant.domain, spec.number)
    assert po is not None
    assert (po.exchange_rate, po.order_date) == (tenant.currencies["EUR"], "2026-03-02")


async def test_an_unknown_bill_to_is_refused_naming_the_field(sandbox: QadSandbox) -> None:
    profile = parse_profile({"defaults": {"bill_to": "99-999"}}, name="bad.toml")
    settings = sandbox_settings(sandbox, "http://127.0.0.1")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with build_channel(settings, profile, transport=transport, sleep=no_sleep) as qad:
        ops = QadOperations(qad, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        with pytest.raises(RecordRejected) as caught:
            await ops.ensure_purchase_order(po_spec("PR000002", lines=1))
    assert [e.field for e in caught.value.errors] == ["billToCode"]


def test_a_profile_keeps_what_it_leaves_blank(sandbox: QadSandbox) -> None:
    settings = sandbox_settings(sandbox, "http://127.0.0.1", invoice_status="AP-INITIAL")
    kept = with_profile(settings, parse_profile({}, name="empty.toml"))
    assert (kept.invoice_status, kept.dates, kept.rounding, kept.bill_to) == (
        "AP-INITIAL",
        "date",
        2,
        "",
    )
    chosen = with_profile(settings, parse_profile(PROFILE, name="acme.toml"))
    assert (chosen.invoice_status, chosen.dates, chosen.exchange_rate_type) == (
        "AP-NOALLOC",
        "datetime",
        "ACCOUNTING",
    )
    assert chosen.rounding == 2
