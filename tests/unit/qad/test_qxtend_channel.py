"""QXtend channel edges on MockTransport: the WSDL probe, reads through browses, change QDocs,
and the routing composite handing each call to its capability's channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree
from qad_fakes import FakeQad, ok, po_spec, settings, supplier_spec

from ml_connector.errors import AuthRejected, ConfigError, PermissionDenied, Unavailable
from ml_connector.qad.models import (
    ItemSpec,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    ReceiptLineSpec,
    ReceiptSpec,
    SupplierChange,
)
from ml_connector.qad.profile import BUILT_IN
from ml_connector.qad.qxtend.channel import QxtendChannel
from ml_connector.qad.qxtend.transport import QxtendNotExposed
from ml_connector.qad.routing import RoutedChannel, build_channel

SUCCESS = (
    b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
    b"<r><result>success</result></r></e:Body></e:Envelope>"
)
Q = "{urn:schemas-qad-com:xml-services}"


def make(
    fake: FakeQad, qdoc: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> QxtendChannel:
    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("QdocWebService"):
            return qdoc(request)
        return await fake.handle(request)

    async def no_sleep(_: float) -> None:
        return None

    return QxtendChannel(
        fake.client(),
        settings(),
        kwargs.pop("profile", BUILT_IN["qxtend"]),
        transport=httpx.MockTransport(handle),
        sleep=no_sleep,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (404, b"", QxtendNotExposed),
        (401, b"", AuthRejected),
        (403, b"", PermissionDenied),
        (503, b"busy", Unavailable),
        (200, b"<html>login</html>", ConfigError),
        (302, b"", ConfigError),
    ],
)
async def test_the_wsdl_probe_names_what_it_found(
    status: int, body: bytes, raised: type[Exception]
) -> None:
    qx = make(FakeQad(), lambda r: httpx.Response(status, content=body))
    async with qx:
        with pytest.raises(raised):
            await qx.ping()
        assert qx.calls == 1
        assert qx.url.endswith("/clouderp/qxi/services/QdocWebService")
        assert "integration" in repr(qx)


async def test_a_wsdl_answer_passes() -> None:
    qx = make(FakeQad(), lambda r: httpx.Response(200, content=b"<wsdl:definitions/>"))
    async with qx:
        await qx.ping()


async def test_changes_send_only_their_fields_and_an_added_line_goes_as_a() -> None:
    sent: list[etree._Element] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(etree.fromstring(request.content))
        return httpx.Response(200, content=SUCCESS)

    held = PurchaseOrder(number="P1", supplier_code="S1", currency="USD", status="O")
    line = PoLine(
        line=2,
        item_code="W",
        quantity_ordered=Decimal(1),
        quantity_received=Decimal(0),
        quantity_invoiced=Decimal(0),
        unit_cost=Decimal(1),
        gl_account="630",
    )
    spec = po_spec("P1", lines=2)
    async with make(FakeQad(), record) as qx:
        await qx.update_po_header(
            held, PoHeaderChange(due_date=dt.date(2026, 5, 1), credit_terms="N60")
        )
        await qx.update_po_line("P1", line, PoLineChange(unit_cost=Decimal("2.5"), status="O"))
        await qx.add_po_line(spec, spec.lines[1])
    header, line_change, added = (doc.find(f".//{Q}purchaseOrder") for doc in sent)
    assert header is not None
    assert line_change is not None
    assert added is not None
    assert [etree.QName(c).localname for c in header] == [
        "operation",
        "poNbr",
        "poDueDate",
        "poCrTerms",
    ]
    detail = line_change.find(f"{Q}lineDetail")
    assert detail is not None
    assert [(etree.QName(c).localname, c.text) for c in detail][2:4] == [
        ("podPurCost", "2.5"),
        ("podStatus", "O"),
    ]
    ops = [
        (d.findtext(f"{Q}operation"), d.findtext(f"{Q}line")) for d in added.iter(f"{Q}lineDetail")
    ]
    assert ops == [("A", "2")]


async def test_reads_filter_by_key_leave_out_values_with_commas_and_check_every_row() -> None:
    fake = FakeQad()
    seen: list[list[str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get_list("filter"))
        browse = request.url.params["browseId"]
        if browse.endswith("receiptHistory"):
            rows = [
                {
                    "prh_hist.prh_receiver": "R1",
                    "prh_hist.prh_nbr": "P1",
                    "prh_hist.prh_ps_nbr": "PS,1",
                    "prh_hist.prh_line": 1,
                    "prh_hist.prh_rcvd": 2,
                },
                {
                    "prh_hist.prh_receiver": "R2",
                    "prh_hist.prh_nbr": "P1",
                    "prh_hist.prh_ps_nbr": "PS-2",
                    "prh_hist.prh_line": 1,
                    "prh_hist.prh_rcvd": 3,
                },
                {
                    "prh_hist.prh_receiver": "R3",
                    "prh_hist.prh_nbr": "P9",
                    "prh_hist.prh_ps_nbr": "PS,1",
                    "prh_hist.prh_line": 1,
                    "prh_hist.prh_rcvd": 4,
                },
            ]
        else:
            rows = [
                {
                    "supplierInvoice.voucher": 7,
                    "supplierInvoice.postingYear": 2026,
                    "supplierInvoice.daybookCode": "SUPCN",
                    "supplierInvoice.supplierCode": "S1",
                    "supplierInvoice.invoiceReference": "CN,1",
                    "supplierInvoice.invoiceType": "Credit Note",
                    "supplierInvoice.purchaseOrderNumber": "P1",
                },
                {
                    "supplierInvoice.voucher": 7,
                    "supplierInvoice.postingYear": 2026,
                    "supplierInvoice.daybookCode": "SUPCN",
                    "supplierInvoice.supplierCode": "S1",
                    "supplierInvoice.invoiceReference": "CN,1",
                    "supplierInvoice.invoiceType": "Credit Note",
                    "supplierInvoice.purchaseOrderNumber": "P2",
                },
            ]
        return ok(rows, auxillaryData={"HasMoreParams": "false"})

    fake.api = api
    async with make(fake, lambda r: httpx.Response(500)) as qx:
        receipts = await qx.find_receipts("P1", "PS,1")
        notes = await qx.find_supplier_invoices("S1", "CN,1", "CreditNote")
        one = await qx.get_supplier_invoice(7, 2026, "SUPCN")
        other_year = await qx.get_supplier_invoice(7, 2025)
    assert [(r.receiver_number, r.lines[0].quantity) for r in receipts] == [("R1", 2)]
    assert [(n.voucher, n.type, n.po_numbers) for n in notes] == [(7, "CreditNote", ["P1", "P2"])]
    assert one is not None
    assert other_year is None
    assert seen[0] == ["prh_hist.prh_nbr,eq,P1,literal"]
    assert seen[1] == ["supplierInvoice.supplierCode,eq,S1,literal"]


class Recorder:
    """A stand-in for every capability: records which method was called."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []
        self.calls = 3
        self.closed = False

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.seen.append(method)
            return [] if method in ("gl_accounts", "items") else None

        return call

    async def aclose(self) -> None:
        self.closed = True


async def test_the_router_hands_each_call_to_its_capability_and_counts_parts_once() -> None:
    rest, qx = Recorder("rest"), Recorder("qxtend")
    routed = RoutedChannel(
        suppliers=rest,  # type: ignore[arg-type]
        purchasing=rest,  # type: ignore[arg-type]
        receiving=qx,  # type: ignore[arg-type]
        invoicing=qx,  # type: ignore[arg-type]
        reference=rest,  # type: ignore[arg-type]
    )
    async with routed:
        await routed.ping()
        await routed.has_business_relation("B")
        await routed.create_business_relation(supplier_spec())
        await routed.update_supplier(None, SupplierChange(name="x"))  # type: ignore[arg-type]
        await routed.get_item("W")
        await routed.create_item(
            ItemSpec(code="W", description="w", uom="EA", gl_account="630", unit_cost=Decimal(1))
        )
        for reader in ("sites", "credit_terms", "currencies", "tax_classes", "suppliers"):
            await getattr(routed, reader)()
        await routed.find_receipts("P1")
        await routed.get_supplier_invoice(1, 2026)
    assert routed.calls == 6
    assert rest.closed
    assert qx.closed
    assert "ping" in rest.seen
    assert "ping" in qx.seen
    assert qx.seen[1:] == ["find_receipts", "get_supplier_invoice"]
    assert "RoutedChannel" in repr(routed)


def test_a_qxtend_url_is_checked_like_the_tenant_url() -> None:
    profile = BUILT_IN["mixed"].model_copy(
        update={
            "qxtend": BUILT_IN["mixed"].qxtend.model_copy(update={"url": "http://10.0.0.5/qxi"})
        }
    )
    with pytest.raises(ConfigError, match="local or private"):
        build_channel(settings(), profile)


async def test_a_receipt_whose_lines_name_their_sites_reads_no_po() -> None:
    fake = FakeQad()
    sent: list[etree._Element] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(etree.fromstring(request.content))
        return httpx.Response(200, content=SUCCESS)

    spec = ReceiptSpec(
        po_number="P1",
        packing_slip="PS-1",
        effective_date=dt.date(2026, 3, 10),
        lines=[ReceiptLineSpec(po_line=1, quantity=Decimal(2), site="10-300")],
    )
    async with make(fake, record) as qx:
        assert await qx.post_receipt(spec) is None
    assert fake.api_calls == 0
    assert [s.text for s in sent[0].iter(f"{Q}site")] == ["10-300"]
