"""The planner, row by row of design.md's table, on the reference's own Simple purchase."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from strategies import execute

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.actions import (
    ClosePurchaseOrder,
    CreatePurchaseOrder,
    EnsureItem,
    EnsureSupplier,
    GlLine,
    MatchLine,
    OrderLine,
    PostCreditNote,
    PostInvoice,
    PostReceipt,
    ReceiveLine,
    ReverseReceipt,
    UpdatePurchaseOrder,
)
from ml_connector.sync.codes import short_hash
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import Plan, plan, shared_keys

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
SUPPLIER_JSON = json.loads((FIXTURES / "supplier.json").read_text())
SUPPLIER = Supplier.from_cin7(SUPPLIER_JSON)
SID = SUPPLIER.id
TASK_A = "aaaaaaaa-0000-4000-8000-000000000001"
TASK_B = "bbbbbbbb-0000-4000-8000-000000000002"

MAPS = Mappings(
    account={"425": "6100", "630": "1400", "460": "6150"},
    item={"WID-100": "W100", "BRK-20": "B20", "NUT-M8": "NM8"},
    location={"Main Warehouse": "10-100", "Production Floor": "10-200"},
    payment_term={"30 days": "N30"},
    tax_rule={"GST on Imports": "GST-IMP"},
    currency={"USD": "USD", "EUR": "EUR"},
    labels={"account": {"425": "Freight & Courier"}},
)
CTX = PlanContext(domain="10USA", entity="10USACO", default_site="10-000")
CODE = "HARB" + short_hash(SID, 4)


def payload(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body.update(changes)
    return body


def run(
    body: dict[str, Any],
    posted: dict[str, Posted] | None = None,
    *,
    maps: Mappings = MAPS,
    supplier: Supplier | None = SUPPLIER,
    ctx: PlanContext = CTX,
) -> Plan:
    return plan(Purchase.from_cin7(body), supplier, maps, posted or {}, ctx)


def posted_after(
    body: dict[str, Any], posted: dict[str, Posted] | None = None
) -> dict[str, Posted]:
    return execute(run(body, posted), posted or {})


def order_only() -> dict[str, Any]:
    body = payload()
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}
    body["Invoice"] = {"Status": "NOT AVAILABLE", "Lines": []}
    return body


def only(plan_: Plan, kind: type) -> list[Any]:
    return [a for a in plan_.actions if isinstance(a, kind)]


# --- the whole purchase at once ----------------------------------------------------------


def test_complete_simple_purchase_plans_supplier_po_receipts_and_invoice_in_order() -> None:
    result = run(payload())

    assert result.status == "pending"
    assert result.po_number == "PO-00412"
    assert result.supplier_code == CODE
    assert [a.kind for a in result.actions] == [
        "supplier", "create_po", "receipt", "receipt", "invoice",
    ]  # fmt: skip
    supplier, po, first, second, invoice = result.actions
    assert isinstance(supplier, EnsureSupplier)
    assert supplier.natural_key == f"supplier:{SID}"
    assert (supplier.code, supplier.currency, supplier.credit_terms, supplier.tax_class) == (
        CODE, "USD", "N30", "GST-IMP",
    )  # fmt: skip
    assert (supplier.street, supplier.city, supplier.email) == (
        "14 Wharf Road, Unit 3", "Port Melbourne", "orders@harbourfasteners.example",
    )  # fmt: skip
    assert not supplier.update

    assert isinstance(po, CreatePurchaseOrder)
    assert po.natural_key == "po:PO-00412"
    assert po.depends_on == (f"supplier:{SID}",)
    assert (po.number, po.supplier_code, po.site, po.credit_terms) == (
        "PO-00412", CODE, "10-100", "N30",
    )  # fmt: skip
    assert po.remarks == "Cin7 PO-00412"
    assert (po.order_date, po.due_date) == (date(2024, 5, 1), date(2024, 5, 7))
    assert po.lines == (
        OrderLine(1, "WID-100", "W100", "Widget 100mm", Decimal(10), Decimal("12.5")),
        OrderLine(2, "BRK-20", "B20", "Bracket 20mm", Decimal(40), Decimal("1.75")),
    )

    assert isinstance(first, PostReceipt)
    assert first.natural_key == "receipt:PO-00412:2024-05-06"
    assert first.packing_slip == "PO-00412-240506"
    assert first.effective_date == date(2024, 5, 6)
    assert first.lines == (
        ReceiveLine(1, "WID-100", Decimal(6), "10-100"),
        ReceiveLine(2, "BRK-20", Decimal(40), "10-100"),
    )
    assert first.depends_on == ("po:PO-00412",)
    assert second.lines == (ReceiveLine(1, "WID-100", Decimal(4), "10-100"),)

    assert isinstance(invoice, PostInvoice)
    assert invoice.natural_key == f"invoice:{CODE}:PO-00412:HF-INV-5521"
    assert set(invoice.depends_on) == {
        f"supplier:{SID}", "po:PO-00412", first.natural_key, second.natural_key,
    }  # fmt: skip
    assert invoice.matching == (
        MatchLine(1, "WID-100", Decimal(10), Decimal("12.5")),
        MatchLine(2, "BRK-20", Decimal(40), Decimal("1.75")),
    )
    assert invoice.gl_lines == (GlLine("6100", Decimal("30.00"), "Freight", "425"),)
    assert (invoice.amount, invoice.tax_amount, invoice.currency) == (
        Decimal("247.50"), Decimal("22.5"), "USD",
    )  # fmt: skip
    assert (invoice.document_date, invoice.due_date) == (date(2024, 5, 9), date(2024, 6, 8))
    assert invoice.invoice_type == "Invoice"
    assert invoice.entity == "10USACO"


def test_planning_again_on_what_was_posted_finds_nothing_to_do() -> None:
    posted = posted_after(payload())

    again = run(payload(), posted)

    assert again.status == "posted"
    assert again.actions == ()
    assert again.holds == ()


def test_every_action_describes_itself_in_one_line() -> None:
    text = [a.describe() for a in run(payload()).actions]

    assert text[0] == f"create supplier {CODE} (Harbour Fasteners Pty Ltd)"
    assert text[1] == f"create PO PO-00412 (PO-00412) for {CODE}: 2 lines"
    assert text[2] == (
        "receive 2024-05-06 on PO PO-00412, slip PO-00412-240506: WID-100 6, BRK-20 40 at 10-100"
    )
    assert text[4] == f"post invoice HF-INV-5521 from {CODE} on PO PO-00412: 247.50 USD"


# --- supplier ----------------------------------------------------------------------------


def test_mapped_supplier_is_used_as_is_and_keys_its_invoices() -> None:
    maps = Mappings(**{**_tables(MAPS), "supplier": {SID.upper(): "HF001"}}, labels=MAPS.labels)

    result = run(payload(), maps=maps)

    assert only(result, EnsureSupplier) == []
    assert only(result, CreatePurchaseOrder)[0].supplier_code == "HF001"
    assert only(result, CreatePurchaseOrder)[0].depends_on == ()
    assert only(result, PostInvoice)[0].natural_key == "invoice:HF001:PO-00412:HF-INV-5521"


def test_a_supplier_changed_in_cin7_is_updated_once() -> None:
    posted = posted_after(payload())
    moved = Supplier.from_cin7(
        {**SUPPLIER_JSON, "Addresses": [{**SUPPLIER_JSON["Addresses"][0], "City": "Geelong"}]}
    )

    result = run(payload(), posted, supplier=moved)

    (action,) = result.actions
    assert isinstance(action, EnsureSupplier)
    assert (action.update, action.city, action.code) == (True, "Geelong", CODE)
    assert action.describe() == f"update supplier {CODE} (Harbour Fasteners Pty Ltd)"
    assert run(payload(), execute(result, posted), supplier=moved).status == "posted"


def test_a_supplier_cin7_does_not_return_blocks_a_new_purchase() -> None:
    result = run(payload(), supplier=None)

    assert result.status == "blocked"
    assert result.missing == ("supplier Harbour Fasteners Pty Ltd (not found in Cin7)",)


def test_a_supplier_deprecated_in_cin7_is_still_created_active_for_its_purchases() -> None:
    retired = Supplier.from_cin7({**SUPPLIER_JSON, "Status": "Deprecated"})

    [ensure] = only(run(payload(), supplier=retired), EnsureSupplier)

    assert ensure.active  # QAD refuses POs for an inactive supplier


def test_a_created_supplier_needs_no_cin7_record_afterwards() -> None:
    posted = posted_after(order_only())

    assert run(payload(), posted, supplier=None).status == "pending"


def test_supplier_without_payment_term_takes_the_default_or_blocks() -> None:
    bare = Supplier.from_cin7({**SUPPLIER_JSON, "PaymentTerm": "", "TaxRule": ""})

    blocked = run(payload(), supplier=bare)
    ctx = PlanContext(domain="10USA", entity="10USACO", default_credit_terms="N45")
    created = only(run(payload(), supplier=bare, ctx=ctx), EnsureSupplier)[0]

    assert blocked.missing == (
        "payment term for supplier Harbour Fasteners Pty Ltd (none set in Cin7)",
    )
    assert (created.credit_terms, created.tax_class) == ("N45", "")


# --- purchase order ----------------------------------------------------------------------


def test_an_order_not_yet_authorised_waits() -> None:
    body = payload()
    body["Order"]["Status"] = "DRAFT"
    body["Order"]["Lines"][0]["Quantity"] = 0  # drafts are work in progress: not checked

    result = run(body)

    assert result.status == "waiting"
    assert result.notes == ("the order is DRAFT in Cin7",)
    assert run(body, posted_after(order_only())).notes == (
        "the order is DRAFT in Cin7; QAD keeps PO PO-00412 as posted",
    )


def test_a_long_order_number_gets_a_short_stable_po_number_and_keeps_it_in_remarks() -> None:
    body = payload(OrderNumber="PO-2026-000412")

    result = run(body)

    po = only(result, CreatePurchaseOrder)[0]
    assert po.number == "Z" + short_hash("PO-2026-000412", 7)
    assert po.remarks == "Cin7 PO-2026-000412"
    assert po.natural_key == "po:PO-2026-000412"
    assert only(result, PostReceipt)[0].packing_slip == f"{po.number}-240506"


def test_quantity_edit_after_posting_updates_the_line_in_place() -> None:
    posted = posted_after(payload())
    body = payload()
    body["Order"]["Lines"][1].update(Quantity=50, Total=87.5)
    body["Order"].update(TotalBeforeTax=242.5, Total=265)

    result = run(body, posted)

    (update,) = result.actions
    assert isinstance(update, UpdatePurchaseOrder)
    assert update.natural_key == "po:PO-00412"
    assert (update.added, update.changed, update.closed, update.header_changed) == (
        (), (2,), (), False,
    )  # fmt: skip
    assert update.line(2) == OrderLine(
        2, "BRK-20", "B20", "Bracket 20mm", Decimal(50), Decimal("1.75")
    )
    assert update.describe() == "update PO PO-00412 (PO-00412): change lines [2]"
    assert run(body, execute(result, posted)).status == "posted"


def test_added_and_removed_skus_keep_every_other_line_number() -> None:
    posted = posted_after(order_only())
    body = order_only()
    nut = {**body["Order"]["Lines"][1], "SKU": "NUT-M8", "Name": "Nut M8", "ProductID": None}
    body["Order"]["Lines"] = [nut, body["Order"]["Lines"][0]]  # BRK-20 removed, NUT-M8 first

    result = run(body, posted)

    (update,) = result.actions
    assert isinstance(update, UpdatePurchaseOrder)
    assert (update.added, update.changed, update.closed) == ((3,), (), (2,))
    assert [(line.line, line.sku, line.quantity, line.status) for line in update.lines] == [
        (1, "WID-100", Decimal(10), "O"),
        (2, "BRK-20", Decimal(0), "C"),
        (3, "NUT-M8", Decimal(40), "O"),
    ]
    assert update.describe() == "update PO PO-00412 (PO-00412): add lines [3], close lines [2]"
    reposted = execute(result, posted)
    assert run(body, reposted).status == "posted"
    # Ordering BRK-20 again reopens its own line, never a new one.
    again = run(order_only(), reposted)
    (reopen,) = again.actions
    assert isinstance(reopen, UpdatePurchaseOrder)
    assert (reopen.changed, reopen.closed) == ((2,), (3,))
    assert reopen.line(2).status == "O"


def test_header_edit_after_posting_is_an_update_too() -> None:
    posted = posted_after(order_only())

    result = run(payload(RequiredBy="2024-05-20T00:00:00"), posted)

    po = only(result, UpdatePurchaseOrder)[0]
    assert po.header_changed
    assert po.due_date == date(2024, 5, 20)
    assert po.describe() == "update PO PO-00412 (PO-00412): header"
    assert only(result, CreatePurchaseOrder) == []


def test_discount_and_tax_inclusive_prices_give_net_unit_costs() -> None:
    body = order_only()
    body["Order"]["Lines"][0].update(Discount=10, Total=112.5)
    body["Order"].update(TotalBeforeTax=212.5, Total=235)
    inclusive = order_only()
    inclusive["TaxCalculation"] = "Inclusive"
    inclusive["Order"]["Lines"][0].update(Price=13.75, Tax=12.5, Total=137.5)
    inclusive["Order"]["Lines"][1].update(Price=1.925, Tax=7, Total=77)
    inclusive["Order"]["AdditionalCharges"][0].update(Price=33, Tax=3, Total=33)
    inclusive["Order"].update(TotalBeforeTax=225, Tax=22.5, Total=247.5)

    discounted = only(run(body), CreatePurchaseOrder)[0].lines[0]
    net = only(run(inclusive), CreatePurchaseOrder)[0].lines

    assert discounted.unit_cost == Decimal("11.25")
    assert [line.unit_cost for line in net] == [Decimal("12.5"), Decimal("1.75")]


def test_purchase_without_location_uses_the_default_site_or_blocks() -> None:
    body = payload(Location="")

    assert only(run(body), CreatePurchaseOrder)[0].site == "10-000"
    no_default = run(body, ctx=PlanContext(domain="10USA", entity="10USACO"))
    assert no_default.missing == ("location (the purchase names none and no default site is set)",)


def test_foreign_currency_purchase_carries_currency_and_rate() -> None:
    body = payload(SupplierCurrency="EUR", CurrencyRate=1.0843)
    euro = Supplier.from_cin7({**SUPPLIER_JSON, "Currency": "EUR"})

    result = run(body, supplier=euro)

    assert only(result, EnsureSupplier)[0].currency == "EUR"
    po = only(result, CreatePurchaseOrder)[0]
    invoice = only(result, PostInvoice)[0]
    assert (po.currency, po.exchange_rate) == ("EUR", Decimal("1.0843"))
    assert (invoice.currency, invoice.exchange_rate) == ("EUR", Decimal("1.0843"))


def test_invoice_rate_wins_over_the_purchase_rate() -> None:
    body = payload(SupplierCurrency="EUR", CurrencyRate=1.08)
    body["Invoice"]["CurrencyRate"] = 1.1

    assert only(run(body), PostInvoice)[0].exchange_rate == Decimal("1.1")


# --- receipts ----------------------------------------------------------------------------


def advanced(put_away: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body = payload(Type="Advanced Purchase", **changes)
    body.pop("StockReceived")
    body["StockReceived"] = [
        {"TaskID": block["TaskID"], "Status": "DRAFT", "Lines": block["Lines"]}
        for block in put_away
    ]
    body["PutAway"] = put_away
    body["Invoice"] = [{**body["Invoice"], "TaskID": TASK_A}]
    body["CreditNote"] = []
    return body


def lines_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["StockReceived"]["Lines"]


def test_advanced_purchase_receives_put_away_blocks_per_task_and_day() -> None:
    sr = lines_of(BASE)
    body = advanced(
        [
            {"TaskID": TASK_A, "Status": "AUTHORISED", "Lines": [sr[0], sr[2]]},
            {"TaskID": TASK_B, "Status": "AUTHORISED", "Lines": [sr[1]]},
        ]
    )

    receipts = only(run(body), PostReceipt)

    assert [r.natural_key for r in receipts] == [
        f"receipt:PO-00412:{TASK_A}/2024-05-06",
        f"receipt:PO-00412:{TASK_B}/2024-05-08",
    ]
    assert receipts[0].packing_slip == "PO-00412-240506" + short_hash(TASK_A, 4)
    assert len(receipts[0].packing_slip) == 19
    assert receipts[0].lines == (
        ReceiveLine(1, "WID-100", Decimal(6), "10-100"),
        ReceiveLine(2, "BRK-20", Decimal(40), "10-100"),
    )


def test_draft_put_away_is_not_received() -> None:
    sr = lines_of(BASE)
    body = advanced([{"TaskID": TASK_A, "Status": "DRAFT", "Lines": sr}])

    result = run(body)

    assert only(result, PostReceipt) == []
    assert result.holds[0].invoice_number == "HF-INV-5521"


def test_receipt_edited_after_posting_is_adjusted_by_the_difference() -> None:
    posted = posted_after(payload())
    body = payload()
    lines_of(body)[0]["Quantity"] = 5  # 6 → 5 + 1 on 2024-05-06: same total, nothing to do
    lines_of(body).append({**lines_of(body)[1], "Date": "2024-05-06T00:00:00", "Quantity": 1})
    assert run(body, posted).actions == ()

    lines_of(body)[-1]["Quantity"] = 0.5
    result = run(body, posted)

    (adjustment,) = result.actions
    assert isinstance(adjustment, PostReceipt)
    assert adjustment.natural_key == "receipt:PO-00412:2024-05-06#adj1"
    assert adjustment.packing_slip == "PO-00412-240506-A1"
    assert adjustment.lines == (ReceiveLine(1, "WID-100", Decimal("-0.5"), "10-100"),)
    assert adjustment.describe() == (
        "adjust receipt 2024-05-06 (#1) on PO PO-00412, slip PO-00412-240506-A1: WID-100 -0.5 "
        "at 10-100"
    )
    reposted = execute(result, posted)
    lines_of(body)[-1]["Quantity"] = 4  # now 13 received against 10 ordered
    tolerant = PlanContext(**{**vars(CTX), "over_receipt_pct": Decimal(30)})
    second = run(body, reposted, ctx=tolerant).actions
    assert [a.natural_key for a in second] == ["receipt:PO-00412:2024-05-06#adj2"]
    assert second[0].lines == (ReceiveLine(1, "WID-100", Decimal("3.5"), "10-100"),)  # type: ignore[attr-defined]
    assert second[0].depends_on == ()  # the PO keeps the 10 ordered


def test_receipt_voided_after_posting_is_reversed_before_the_po_changes() -> None:
    posted = posted_after(payload())
    body = payload()
    body["StockReceived"]["Status"] = "VOIDED"
    body["Invoice"]["Status"] = "DRAFT"

    result = run(body, posted)

    keys = [a.natural_key for a in result.actions]
    assert keys[:2] == ["receipt:PO-00412:2024-05-06#adj1", "receipt:PO-00412:2024-05-08#adj1"]
    assert result.actions[0].lines == (  # type: ignore[attr-defined]
        ReceiveLine(1, "WID-100", Decimal(-6), "10-100"),
        ReceiveLine(2, "BRK-20", Decimal(-40), "10-100"),
    )
    assert result.actions[0].depends_on == ()
    assert result.attention == (
        f"invoice HF-INV-5521 was set back to draft in Cin7 after QAD took it as voucher "
        f"{posted[f'invoice:{CODE}:PO-00412:HF-INV-5521'].qad_id} (247.50 USD): reverse voucher "
        f"{posted[f'invoice:{CODE}:PO-00412:HF-INV-5521'].qad_id} in QAD (a credit note "
        "entered in Cin7 instead posts to QAD by itself)",
    )


def test_receipts_posted_before_a_simple_purchase_turned_advanced_are_not_received_twice() -> None:
    posted = posted_after(payload())
    sr = lines_of(BASE)
    body = advanced(
        [
            {"TaskID": TASK_A, "Status": "AUTHORISED", "Lines": [sr[0], sr[2]]},
            {"TaskID": TASK_B, "Status": "AUTHORISED", "Lines": [sr[1]]},
        ]
    )

    result = run(body, posted)

    assert result.actions == ()
    assert result.status == "posted"
    assert result.notes == (
        "receipts posted before Cin7 turned this purchase into an Advanced one count towards "
        "its put-away blocks of the same day",
    )
    # A later delivery on a day already posted under the old key only adds the difference.
    body["PutAway"][1]["Lines"] = [{**sr[1], "Quantity": 5}]
    body["Order"]["Lines"][0].update(Quantity=11, Total=137.5)
    body["Order"].update(TotalBeforeTax=237.5, Total=261.25, Tax=23.75)
    keys = [(a.natural_key, getattr(a, "lines", None)) for a in run(body, posted).actions]
    assert keys == [
        ("po:PO-00412", keys[0][1]),
        (
            f"receipt:PO-00412:{TASK_B}/2024-05-08",
            (ReceiveLine(1, "WID-100", Decimal(1), "10-100"),),
        ),
    ]


def test_goods_not_on_the_order_need_attention_and_nothing_is_posted() -> None:
    body = payload()
    extra = {**lines_of(body)[2], "SKU": "NUT-M8", "Name": "Nut M8", "Quantity": 7}
    lines_of(body).append(extra)

    result = run(body)

    assert (result.status, result.actions) == ("attention", ())
    assert result.attention == (
        "NUT-M8: received 7, not on the order: add it to the order in Cin7 or correct the "
        "receipt; nothing is posted to QAD until then",
    )


def test_over_receipt_beyond_the_tolerance_needs_attention_and_never_raises_the_po() -> None:
    body = payload()
    lines_of(body)[1]["Quantity"] = 6  # 6 + 6 of 10 ordered

    strict = run(body)
    tolerant = run(body, ctx=PlanContext(**{**vars(CTX), "over_receipt_pct": Decimal(20)}))

    assert (strict.status, strict.actions) == ("attention", ())
    assert strict.attention == (
        "WID-100: received 12 (6 + 6) of 10 ordered, over the 0% over-receipt tolerance (at "
        "most 10): correct the receipt or the order in Cin7; nothing is posted to QAD until then",
    )
    po = only(tolerant, CreatePurchaseOrder)[0]
    assert po.lines[0].quantity == Decimal(10)
    assert [a.natural_key for a in only(tolerant, PostReceipt)] == [
        "receipt:PO-00412:2024-05-06",
        "receipt:PO-00412:2024-05-08",
    ]


def test_blind_receipt_builds_the_po_from_goods_received_priced_from_the_invoice() -> None:
    body = payload(BlindReceipt=True)
    body["Order"] = {"Status": "NOT AVAILABLE", "Lines": [], "AdditionalCharges": []}

    result = run(body)

    po = only(result, CreatePurchaseOrder)[0]
    assert [(line.line, line.sku, line.quantity, line.unit_cost) for line in po.lines] == [
        (1, "WID-100", Decimal(10), Decimal("12.5")),
        (2, "BRK-20", Decimal(40), Decimal("1.75")),
    ]
    assert len(only(result, PostReceipt)) == 2
    assert len(only(result, PostInvoice)) == 1


def test_blind_receipt_with_nothing_received_waits() -> None:
    body = payload(BlindReceipt=True)
    body["Order"] = {"Status": "NOT AVAILABLE", "Lines": []}
    body["StockReceived"]["Status"] = "DRAFT"

    assert run(body).status == "waiting"


# --- invoices and holds ------------------------------------------------------------------


def invoice_first() -> dict[str, Any]:
    body = payload(Approach="INVOICE")
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}
    return body


def test_invoice_first_purchase_holds_the_invoice_until_goods_are_received() -> None:
    result = run(invoice_first())

    assert result.status == "pending"  # the PO still goes out
    assert [a.kind for a in result.actions] == ["supplier", "create_po"]
    (hold,) = result.holds
    assert hold.natural_key == f"invoice:{CODE}:PO-00412:HF-INV-5521"
    assert hold.invoice_number == "HF-INV-5521"
    assert hold.reason == (
        "WID-100: invoiced 10, received in QAD 0; BRK-20: invoiced 40, received in QAD 0"
    )
    assert [(s.sku, s.po_line, s.needed, s.available) for s in hold.shortfalls] == [
        ("WID-100", 1, Decimal(10), Decimal(0)),
        ("BRK-20", 2, Decimal(40), Decimal(0)),
    ]
    posted = execute(result, {})
    assert run(invoice_first(), posted).status == "held"


def test_partial_receipt_keeps_the_hold_and_says_what_is_missing() -> None:
    posted = posted_after(invoice_first())
    body = invoice_first()
    body["StockReceived"] = {"Status": "AUTHORISED", "Lines": lines_of(BASE)[::2]}

    result = run(body, posted)

    assert [a.kind for a in result.actions] == ["receipt"]
    assert result.holds[0].reason == "WID-100: invoiced 10, received in QAD 6"


def test_held_invoice_is_released_with_the_receipt_that_covers_it() -> None:
    posted = posted_after(invoice_first())
    first_day = invoice_first()
    first_day["StockReceived"] = {"Status": "AUTHORISED", "Lines": lines_of(BASE)[::2]}
    posted = posted_after(first_day, posted)

    result = run(payload(Approach="INVOICE"), posted)

    assert [a.natural_key for a in result.actions] == [
        "receipt:PO-00412:2024-05-08",
        f"invoice:{CODE}:PO-00412:HF-INV-5521",
    ]
    assert result.actions[1].depends_on == ("receipt:PO-00412:2024-05-08",)
    assert result.holds == ()
    assert run(payload(Approach="INVOICE"), execute(result, posted)).status == "posted"


def split_invoices(first: int, second: int) -> dict[str, Any]:
    body = advanced([{"TaskID": TASK_A, "Status": "AUTHORISED", "Lines": lines_of(BASE)}])
    one = copy.deepcopy(body["Invoice"][0])
    one["Lines"] = [{**one["Lines"][0], "Quantity": first, "Total": 12.5 * first}]
    one["AdditionalCharges"] = []
    one.update(TotalBeforeTax=12.5 * first, Tax=0, Total=12.5 * first)
    two = {**copy.deepcopy(one), "InvoiceNumber": "HF-INV-5522", "TaskID": TASK_B}
    two["Lines"] = [{**one["Lines"][0], "Quantity": second, "Total": 12.5 * second}]
    two.update(TotalBeforeTax=12.5 * second, Total=12.5 * second)
    body["Invoice"] = [one, two]
    return body


def test_several_invoices_draw_on_receipts_cumulatively() -> None:
    result = run(split_invoices(6, 6))  # 12 invoiced, 10 received

    assert [a.natural_key for a in only(result, PostInvoice)] == [
        f"invoice:{CODE}:PO-00412:HF-INV-5521"
    ]
    assert result.holds[0].reason == (
        "WID-100: invoiced 6, received in QAD 10, 6 of it already invoiced"
    )
    posted = execute(result, {})
    assert run(split_invoices(6, 6), posted).holds[0].reason == (
        "WID-100: invoiced 6, received in QAD 10, 6 of it already invoiced"
    )
    assert only(run(split_invoices(6, 4), posted), PostInvoice)[0].reference == "HF-INV-5522"


def test_a_held_invoice_keeps_its_turn_before_later_ones() -> None:
    result = run(split_invoices(12, 4))  # the first is short; the second waits behind it

    assert [h.invoice_number for h in result.holds] == ["HF-INV-5521", "HF-INV-5522"]
    assert result.holds[1].reason == (
        "WID-100: invoiced 4, received in QAD 10, 12 waiting for earlier invoices"
    )


def test_a_credit_note_in_the_same_plan_releases_the_invoice_it_makes_room_for() -> None:
    body = split_invoices(6, 6)  # 12 invoiced against 10 received...
    line = {**body["Invoice"][0]["Lines"][0], "Quantity": 2, "Total": 25}
    body["CreditNote"] = [  # ...until 2 are credited back on the first invoice
        {
            "TaskID": TASK_A,
            "CreditNoteNumber": "HF-CN-77",
            "CreditNoteDate": "2024-05-20T00:00:00",
            "Status": "AUTHORISED",
            "Lines": [line],
            "TotalBeforeTax": 25,
            "Tax": 0,
            "Total": 25,
            "Unstock": [],
        }
    ]

    result = run(body)

    documents = [a for a in result.actions if isinstance(a, PostInvoice | PostCreditNote)]
    assert [a.reference for a in documents] == ["HF-INV-5521", "HF-CN-77", "HF-INV-5522"]
    assert f"credit:{CODE}:PO-00412:HF-CN-77" in documents[2].depends_on
    assert result.holds == ()
    assert run(body, execute(result, {})).status == "posted"


def test_invoice_for_goods_neither_ordered_nor_received_is_held() -> None:
    body = payload()
    nut = {**body["Invoice"]["Lines"][1], "SKU": "NUT-M8", "ProductID": None, "Quantity": 40}
    body["Invoice"]["Lines"].append(nut)
    body["Invoice"].update(TotalBeforeTax=295, Tax=29.5, Total=324.5)

    result = run(body)

    assert result.holds[0].reason == "NUT-M8: invoiced 40, received in QAD 0 (not on the order)"
    assert result.holds[0].shortfalls[0].po_line is None


def test_paid_invoice_posts_like_an_authorised_one() -> None:
    body = payload()
    body["Invoice"]["Status"] = "PAID"

    assert len(only(run(body), PostInvoice)) == 1


def test_non_item_invoice_lines_post_to_their_gl_account() -> None:
    body = payload()
    service = {"Name": "Installation", "Quantity": 1, "Price": 50, "Account": "460", "Total": 50}
    body["Invoice"]["Lines"].append(service)
    body["Invoice"].update(TotalBeforeTax=275, Total=297.5)

    invoice = only(run(body), PostInvoice)[0]

    assert invoice.gl_lines[0] == GlLine("6150", Decimal("50.00"), "Installation", "460")
    assert invoice.amount == Decimal("297.50")


def test_invoice_without_number_gets_a_stable_reference() -> None:
    body = payload()
    body["Invoice"]["InvoiceNumber"] = ""
    adv = advanced([{"TaskID": TASK_A, "Status": "AUTHORISED", "Lines": lines_of(BASE)}])
    adv["Invoice"][0]["InvoiceNumber"] = ""

    simple = only(run(body), PostInvoice)[0]
    task = only(run(adv), PostInvoice)[0]

    assert (simple.reference, simple.cin7_number) == ("PO-00412-I1", "")
    assert simple.natural_key == f"invoice:{CODE}:PO-00412:PO-00412-I1"
    assert task.reference == "PO-00412-I1"  # by position, not TaskID: conversions add tasks


def test_invoice_rounding_note_when_unit_prices_lose_digits() -> None:
    body = payload()
    for line in (body["Order"]["Lines"][1], body["Invoice"]["Lines"][1]):
        line.update(Quantity=3000, Price=0.1234, Discount=12.5, Total=323.93)
    for document in (body["Order"], body["Invoice"]):
        document.update(TotalBeforeTax=478.93, Total=501.43)
    lines_of(body)[2]["Quantity"] = 3000

    result = run(body)

    invoice = only(result, PostInvoice)[0]
    assert invoice.matching[1] == MatchLine(2, "BRK-20", Decimal(3000), Decimal("0.1080"))
    assert invoice.amount == Decimal("501.50")
    assert result.notes == (
        "invoice HF-INV-5521: QAD amount 501.50 differs from Cin7's total 501.43 because unit "
        "prices are rounded to 4 places",
    )


def test_posted_invoice_changed_in_cin7_needs_a_person() -> None:
    posted = posted_after(payload())
    body = payload()
    body["Invoice"]["AdditionalCharges"][0].update(Price=35, Total=35)
    body["Invoice"].update(TotalBeforeTax=230, Total=252.5)
    voucher = posted[f"invoice:{CODE}:PO-00412:HF-INV-5521"].qad_id

    result = run(body, posted)

    assert result.status == "attention"
    assert result.attention == (
        f"invoice HF-INV-5521 changed in Cin7 after QAD took it as voucher {voucher} (account "
        f"6100 30.00 → 35.00; amount 247.50 → 252.50): QAD keeps voucher {voucher} as posted; "
        "correct it in QAD, or reverse it there and enter the corrected document by hand (a "
        "credit note entered in Cin7 posts to QAD by itself)",
    )


def test_posted_invoice_is_found_by_reference_even_under_another_supplier_code() -> None:
    posted = posted_after(payload())
    maps = Mappings(**{**_tables(MAPS), "supplier": {SID: "HF001"}}, labels=MAPS.labels)

    result = run(payload(), posted, maps=maps)

    assert only(result, PostInvoice) == []


# --- credit notes and returns ------------------------------------------------------------


def with_credit(unstock: bool = True, status: str = "AUTHORISED") -> dict[str, Any]:
    body = payload()
    line = {**body["Invoice"]["Lines"][0], "Quantity": 2, "Total": 25, "Tax": 2.5}
    body["CreditNote"] = {
        "CreditNoteNumber": "HF-CN-77",
        "CreditNoteDate": "2024-05-20T00:00:00",
        "Status": status,
        "Lines": [line],
        "AdditionalCharges": [],
        "TotalBeforeTax": 25,
        "Tax": 2.5,
        "Total": 27.5,
        "Unstock": {
            "Status": "AUTHORISED" if unstock else "NOT AVAILABLE",
            "Lines": [{**lines_of(BASE)[0], "Date": "2024-05-21T00:00:00", "Quantity": 2}]
            if unstock
            else [],
        },
    }
    return body


def test_credit_note_with_unstock_gives_back_invoiced_and_received_quantities() -> None:
    posted = posted_after(payload())

    result = run(with_credit(), posted)

    credit, reverse = result.actions
    assert isinstance(credit, PostCreditNote)
    assert credit.natural_key == f"credit:{CODE}:PO-00412:HF-CN-77"
    assert credit.invoice_type == "CreditNote"
    assert credit.matching == (MatchLine(1, "WID-100", Decimal(2), Decimal("12.5")),)
    assert credit.amount == Decimal("27.50")
    assert credit.describe() == f"post credit note HF-CN-77 from {CODE} on PO PO-00412: 27.50 USD"
    assert isinstance(reverse, ReverseReceipt)
    assert reverse.natural_key == "unstock:PO-00412:HF-CN-77:2024-05-21"
    assert reverse.lines == (ReceiveLine(1, "WID-100", Decimal(-2), "10-100"),)
    assert reverse.packing_slip == "PO-00412-U240521" + short_hash("HF-CN-77", 4)
    assert reverse.credit_note == "HF-CN-77"
    assert reverse.describe().startswith("reverse receipt on PO PO-00412 for credit note HF-CN-77")
    assert run(with_credit(), execute(result, posted)).status == "posted"


def test_whole_life_at_once_orders_credit_after_invoice_and_return_last() -> None:
    result = run(with_credit())

    kinds = [a.kind for a in result.actions]
    assert kinds == [
        "supplier", "create_po", "receipt", "receipt", "invoice", "credit_note", "reverse_receipt",
    ]  # fmt: skip
    credit = only(result, PostCreditNote)[0]
    assert f"invoice:{CODE}:PO-00412:HF-INV-5521" in credit.depends_on


def test_credit_note_waits_for_the_invoice_it_credits() -> None:
    body = with_credit(unstock=False)
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}

    result = run(body)

    assert [h.reason for h in result.holds] == [
        "WID-100: invoiced 10, received in QAD 0; BRK-20: invoiced 40, received in QAD 0",
        "WID-100: credited 2, invoiced in QAD 0",
    ]


def test_credit_note_voided_after_posting_needs_a_person() -> None:
    posted = posted_after(with_credit(unstock=False))

    result = run(with_credit(unstock=False, status="VOIDED"), posted)

    assert result.status == "attention"
    assert result.attention[0].startswith(
        "credit note HF-CN-77 was voided in Cin7 after QAD took it as voucher"
    )
    assert result.attention[0].endswith("(27.50 USD): reverse voucher 1005 in QAD")


def test_credit_note_changed_after_posting_needs_a_person() -> None:
    posted = posted_after(with_credit(unstock=False))
    body = with_credit(unstock=False)
    body["CreditNote"]["Tax"] = 3
    body["CreditNote"]["Total"] = 28

    assert run(body, posted).attention[0].startswith("credit note HF-CN-77 changed in Cin7")


def test_unstock_undone_after_posting_is_received_back() -> None:
    posted = posted_after(with_credit())

    result = run(with_credit(unstock=False), posted)

    (back,) = result.actions
    assert isinstance(back, ReverseReceipt)
    assert back.natural_key == "unstock:PO-00412:HF-CN-77:2024-05-21#adj1"
    assert back.lines == (ReceiveLine(1, "WID-100", Decimal(2), "10-100"),)


# --- void --------------------------------------------------------------------------------


def voided(body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["Status"] = "VOIDED"
    body["Order"]["Status"] = "VOIDED"
    return body


def test_void_before_anything_was_posted_does_nothing() -> None:
    result = run(voided(payload()))

    assert (result.status, result.actions) == ("void", ())
    assert result.notes == ("voided in Cin7 before anything was posted to QAD",)


def test_void_with_nothing_received_closes_the_po_once() -> None:
    posted = posted_after(order_only())

    result = run(voided(order_only()), posted)

    (close,) = result.actions
    assert isinstance(close, ClosePurchaseOrder)
    assert (close.natural_key, close.number) == ("close:PO-00412", "PO-00412")
    assert close.describe() == "close PO PO-00412 (PO-00412, voided in Cin7)"
    after = run(voided(order_only()), execute(result, posted))
    assert (after.status, after.notes) == ("void", ("PO PO-00412 is closed in QAD",))


def test_void_after_goods_were_received_in_qad_needs_a_person() -> None:
    posted = posted_after(payload())

    result = run(voided(payload()), posted)

    assert result.status == "attention"
    assert result.actions == ()
    assert result.attention == (
        "PO-00412 was voided in Cin7 after goods were received in QAD on PO PO-00412 "
        "(BRK-20 40, WID-100 10): reverse the receipts or close the PO in QAD by hand",
        "PO-00412 was voided in Cin7 but QAD holds its invoices HF-INV-5521: reverse them in QAD",
    )


def test_a_closed_po_authorised_again_needs_a_person() -> None:
    posted = posted_after(order_only())
    posted = execute(run(voided(order_only()), posted), posted)

    result = run(order_only(), posted)

    assert result.status == "attention"
    assert "reopen the PO in QAD by hand" in result.attention[0]


# --- mappings ----------------------------------------------------------------------------


def _tables(maps: Mappings) -> dict[str, dict[str, str]]:
    return {
        kind: dict(getattr(maps, kind))
        for kind in (
            "account",
            "item",
            "supplier",
            "location",
            "payment_term",
            "tax_rule",
            "currency",
        )
    }


def test_nothing_mapped_blocks_with_the_exact_list_of_what_is_missing() -> None:
    result = run(payload(), maps=Mappings(labels=MAPS.labels))

    assert result.status == "blocked"
    assert result.actions == ()
    assert result.missing == (
        "currency USD",
        "payment term 30 days",
        "tax rule GST on Imports",
        "location Main Warehouse",
        "item WID-100",
        "item BRK-20",
        "account 425 (Freight & Courier)",
    )


def test_one_unmapped_gl_account_blocks_a_new_purchase_entirely() -> None:
    tables = _tables(MAPS)
    del tables["account"]["425"]

    result = run(payload(), maps=Mappings(**tables))

    assert (result.status, result.missing, result.actions) == (
        "blocked", ("account 425 (Freight)",), (),
    )  # fmt: skip


def test_once_the_po_is_posted_only_what_needs_the_missing_mapping_waits() -> None:
    posted = posted_after(order_only())
    tables = _tables(MAPS)
    del tables["account"]["425"]

    result = run(payload(), posted, maps=Mappings(**tables))

    assert result.status == "pending"
    assert [a.kind for a in result.actions] == ["receipt", "receipt"]
    assert result.missing == ("account 425 (Freight)",)
    blocked = run(payload(), execute(result, posted), maps=Mappings(**tables))
    assert (blocked.status, blocked.actions) == ("blocked", ())


def test_a_new_sku_with_no_item_blocks_only_its_po_update_and_receipt() -> None:
    posted = posted_after(order_only())
    body = payload()
    lines_of(body).append({**lines_of(body)[2], "SKU": "GSK-4", "Name": "Gasket", "Quantity": 3})
    gasket = {**body["Order"]["Lines"][1], "SKU": "GSK-4", "Name": "Gasket", "Quantity": 3}
    body["Order"]["Lines"].append({**gasket, "Total": 5.25})
    body["Order"].update(TotalBeforeTax=230.25, Total=252.75)

    result = run(body, posted)

    assert result.missing == ("item GSK-4",)
    assert [a.natural_key for a in result.actions] == ["receipt:PO-00412:2024-05-08"]


def test_create_missing_items_plans_the_item_before_the_po() -> None:
    tables = _tables(MAPS)
    del tables["item"]["BRK-20"]
    ctx = PlanContext(domain="10USA", entity="10USACO", create_missing_items=True)

    result = run(payload(), maps=Mappings(**tables), ctx=ctx)

    item = only(result, EnsureItem)[0]
    assert (item.natural_key, item.code, item.gl_account, item.uom) == (
        "item:BRK-20", "BRK-20", "1400", "EA",
    )  # fmt: skip
    assert item.describe() == "create item BRK-20 for SKU BRK-20"
    po = only(result, CreatePurchaseOrder)[0]
    assert "item:BRK-20" in po.depends_on
    assert po.lines[1].item_code == "BRK-20"
    posted = execute(result, {})
    assert run(payload(), posted, maps=Mappings(**tables), ctx=ctx).status == "posted"


def test_created_items_need_a_gl_account() -> None:
    tables = _tables(MAPS)
    del tables["item"]["BRK-20"]
    del tables["account"]["630"]
    ctx = PlanContext(domain="10USA", entity="10USACO", create_missing_items=True)

    missing = run(payload(), maps=Mappings(**tables), ctx=ctx).missing
    no_account = run(payload(InventoryAccount=""), maps=Mappings(**tables), ctx=ctx).missing
    fallback = PlanContext(
        domain="10USA", entity="10USACO", create_missing_items=True, item_gl_account="1450"
    )
    item = only(run(payload(), maps=Mappings(**tables), ctx=fallback), EnsureItem)[0]

    assert missing == ("account 630 (inventory account)",)
    assert no_account == ("account for new items (the purchase has no inventory account)",)
    assert item.gl_account == "1450"


def test_shared_keys_name_the_supplier_and_every_item() -> None:
    assert shared_keys(Purchase.from_cin7(payload())) == (
        f"supplier:{SID}",
        "item:WID-100",
        "item:BRK-20",
    )


# --- robustness --------------------------------------------------------------------------


def test_plan_finds_its_actions_by_natural_key() -> None:
    result = run(payload())

    assert result.keys == tuple(a.natural_key for a in result.actions)
    assert result.action("po:PO-00412") is result.actions[1]
    assert result.action("po:nope") is None


def test_an_item_created_earlier_is_used_without_a_mapping() -> None:
    tables = _tables(MAPS)
    del tables["item"]["BRK-20"]
    posted = {"item:BRK-20": Posted("BRK20-Q", {"code": "BRK20-Q"})}

    po = only(run(payload(), posted, maps=Mappings(**tables)), CreatePurchaseOrder)[0]

    assert po.lines[1].item_code == "BRK20-Q"


def test_charges_without_a_cin7_total_are_computed() -> None:
    body = payload()
    body["Invoice"]["AdditionalCharges"][0].update(Total=None, Quantity=2, Price=15)
    body["Order"]["Lines"][0]["Total"] = None

    invoice = only(run(body), PostInvoice)[0]

    assert invoice.gl_lines[0].amount == Decimal("30.00")


def test_unreadable_posted_details_count_as_nothing_and_unknown_blocks_are_reversed() -> None:
    posted = posted_after(payload())
    posted["receipt:PO-00412:legacy"] = Posted(
        "RC999", {"lines": [{"sku": "WID-100", "line": 1, "quantity": "2"}, "junk"]}
    )
    posted["receipt:PO-00412:garbled"] = Posted(
        "RC998", {"lines": [{"sku": "WID-100", "line": 1, "quantity": "two"}]}
    )
    posted["receipt:PO-00412:empty"] = Posted("RC997", {"lines": "none"})

    result = run(payload(), posted)

    (reverse,) = result.actions
    assert isinstance(reverse, PostReceipt)
    assert reverse.natural_key == "receipt:PO-00412:legacy#adj1"
    assert reverse.effective_date == date(2024, 5, 1)  # no day in the key: the order date
    assert reverse.lines == (ReceiveLine(1, "WID-100", Decimal(-2), "10-100"),)
