"""The planner as accounts payable sees it (issue 8): one QAD invoice per Cin7 purchase invoice,
tolerances, non-stock lines, receiving sites, and edits after posting."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from strategies import execute

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.actions import PostInvoice
from ml_connector.sync.codes import short_hash
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import Plan, plan

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
SUPPLIER = Supplier.from_cin7(json.loads((FIXTURES / "supplier.json").read_text()))
CODE = "HARB" + short_hash(SUPPLIER.id or "", 4)
MAPS = Mappings(
    account={"425": "6100", "630": "1400", "460": "6150", "473": "4730"},
    item={"WID-100": "W100", "BRK-20": "B20", "NUT-M8": "NM8"},
    location={"Main Warehouse": "10-100", "East Coast DC": "10-200"},
    payment_term={"30 days": "N30"},
    tax_rule={"GST on Imports": "GST-IMP"},
    currency={"USD": "USD"},
)
CTX = PlanContext(domain="10USA", entity="10USACO", default_site="10-000")


def payload(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body.update(changes)
    return body


def run(
    body: dict[str, Any], posted: dict[str, Posted] | None = None, *, ctx: PlanContext = CTX
) -> Plan:
    return plan(Purchase.from_cin7(body), SUPPLIER, MAPS, posted or {}, ctx)


def settle(
    body: dict[str, Any], posted: dict[str, Posted] | None = None, *, ctx: PlanContext = CTX
) -> dict[str, Posted]:
    state = dict(posted or {})
    for _ in range(3):
        state = execute(run(body, state, ctx=ctx), state)
    return state


def invoices(result: Plan) -> list[PostInvoice]:
    return [a for a in result.actions if isinstance(a, PostInvoice)]


# --- 1. one QAD invoice per Cin7 purchase invoice ------------------------------------------


def second_purchase() -> dict[str, Any]:
    """Another purchase of the same supplier, invoiced on the same paper invoice HF-INV-5521."""
    return payload(ID="7c2f0d1e-5a4b-4c3d-9e8f-0a1b2c3d4e5f", OrderNumber="PO-00413")


def test_two_purchases_on_one_supplier_invoice_number_each_get_their_own_invoice() -> None:
    first = invoices(run(payload()))
    second = invoices(run(second_purchase()))

    assert [(i.reference, i.po_number) for i in first] == [("HF-INV-5521", "PO-00412")]
    assert [(i.reference, i.po_number) for i in second] == [("HF-INV-5521", "PO-00413")]
    assert first[0].natural_key == f"invoice:{CODE}:PO-00412:HF-INV-5521"
    assert second[0].natural_key == f"invoice:{CODE}:PO-00413:HF-INV-5521"


def test_an_invoice_posted_under_the_key_without_a_po_is_not_posted_again() -> None:
    posted = settle(payload())
    key = f"invoice:{CODE}:PO-00412:HF-INV-5521"
    earlier = {(f"invoice:{CODE}:HF-INV-5521" if k == key else k): v for k, v in posted.items()}

    again = run(payload(), earlier)

    assert again.actions == ()
    assert again.status == "posted"


# --- 4. over-receipt tolerance -------------------------------------------------------------


def receiving(*widgets: tuple[str, float], ordered: float = 10) -> dict[str, Any]:
    """WID-100 ordered `ordered` and received on the given days; BRK-20 as ordered."""
    body = payload()
    order = body["Order"]["Lines"][0]
    order.update(Quantity=ordered, Total=ordered * 12.5)
    lines = body["StockReceived"]["Lines"]
    template, bracket = lines[0], lines[2]
    body["StockReceived"]["Lines"] = [
        {**template, "Date": f"{day}T00:00:00", "Quantity": quantity} for day, quantity in widgets
    ] + [bracket]
    body["Order"].update(TotalBeforeTax=ordered * 12.5 + 100, Total=ordered * 12.5 + 122.5)
    body["Invoice"] = {"Status": "NOT AVAILABLE", "Lines": []}
    return body


def test_six_then_eight_of_ten_needs_attention_and_leaves_qad_as_it_was() -> None:
    first = receiving(("2024-05-06", 6))
    posted = settle(first)
    po_before = posted["po:PO-00412"]
    later = receiving(("2024-05-06", 6), ("2024-05-08", 8))

    result = run(later, posted)

    assert (result.status, result.actions) == ("attention", ())
    assert result.attention == (
        "WID-100: received 14 (6 + 8) of 10 ordered, over the 0% over-receipt tolerance (at "
        "most 10): correct the receipt or the order in Cin7; nothing is posted to QAD until then",
    )
    assert [row["quantity"] for row in po_before.details["lines"]] == ["10", "40"]


def test_nine_hundred_ninety_nine_of_three_is_never_posted() -> None:
    result = run(receiving(("2024-05-06", 999), ordered=3))

    assert (result.status, result.actions) == ("attention", ())
    assert "WID-100: received 999 of 3 ordered" in result.attention[0]


def test_within_the_tolerance_the_receipt_posts_against_the_po_as_ordered() -> None:
    ctx = PlanContext(domain="10USA", entity="10USACO", over_receipt_pct=Decimal(50))

    result = run(receiving(("2024-05-06", 6), ("2024-05-08", 8)), ctx=ctx)

    assert result.status == "pending"
    po = next(a for a in result.actions if a.kind == "create_po")
    assert [line.quantity for line in po.lines] == [Decimal(10), Decimal(40)]  # type: ignore[attr-defined]
    assert [a.kind for a in result.actions].count("receipt") == 2


def test_goods_returned_on_a_credit_note_count_against_the_over_receipt() -> None:
    body = receiving(("2024-05-06", 12))
    line = {**BASE["Invoice"]["Lines"][0], "Quantity": 2, "Total": 25, "Tax": 2.5}
    body["CreditNote"] = {
        "CreditNoteNumber": "HF-CN-3",
        "CreditNoteDate": "2024-05-09T00:00:00",
        "Status": "DRAFT",
        "Lines": [line],
        "Unstock": {
            "Status": "AUTHORISED",
            "Lines": [{**body["StockReceived"]["Lines"][0], "Quantity": 2}],
        },
    }

    result = run(body)

    assert result.status == "pending"
    assert result.attention == ()


def test_goods_returned_but_still_over_show_every_figure() -> None:
    body = receiving(("2024-05-06", 6), ("2024-05-08", 8))
    line = {**BASE["Invoice"]["Lines"][0], "Quantity": 1, "Total": 12.5, "Tax": 1.25}
    body["CreditNote"] = {
        "CreditNoteNumber": "HF-CN-4",
        "Status": "DRAFT",
        "Lines": [line],
        "Unstock": {
            "Status": "AUTHORISED",
            "Lines": [{**body["StockReceived"]["Lines"][0], "Quantity": 1}],
        },
    }

    result = run(body)

    assert result.attention[0].startswith(
        "WID-100: received 14 (6 + 8), less 1 returned, of 10 ordered, over the 0% over-receipt"
    )


# --- 5. price tolerance --------------------------------------------------------------------


def invoiced_at(price: float) -> dict[str, Any]:
    """The reference purchase with WID-100 (10 at 12.50 on the PO) invoiced at `price`."""
    body = payload()
    total = round(price * 10, 2)
    body["Invoice"]["Lines"][0].update(Price=price, Total=total, Tax=round(total / 10, 2))
    before = total + 70 + 30
    tax = round(total / 10, 2) + 7 + 3
    body["Invoice"].update(TotalBeforeTax=before, Tax=tax, Total=round(before + tax, 2))
    return body


def tolerance(pct: str = "0", amount: str = "0") -> PlanContext:
    return PlanContext(
        domain="10USA",
        entity="10USACO",
        price_tolerance_pct=Decimal(pct),
        price_tolerance_amount=Decimal(amount),
    )


def test_within_the_price_tolerance_the_invoice_posts_and_keeps_the_variance() -> None:
    result = run(invoiced_at(13.0), ctx=tolerance(pct="5"))

    (invoice,) = invoices(result)
    (variance,) = invoice.variances
    assert (variance.sku, variance.po_price, variance.invoice_price) == (
        "WID-100",
        Decimal("12.5"),
        Decimal("13.0"),
    )
    assert variance.amount == Decimal("5.0")
    assert invoice.describe().endswith("; price variance WID-100 12.50 → 13.00 x 10 = +5.00")
    assert invoice.posted_details("7")["variances"] == [
        {
            "line": 1,
            "sku": "WID-100",
            "quantity": "10",
            "po_price": "12.5000",
            "invoice_price": "13.0000",
            "amount": "5.0000",
        }
    ]


def test_an_absolute_tolerance_a_unit_allows_what_the_percentage_does_not() -> None:
    assert invoices(run(invoiced_at(12.9), ctx=tolerance(pct="1", amount="0.40")))
    assert not invoices(run(invoiced_at(12.95), ctx=tolerance(pct="1", amount="0.40")))


def test_beyond_the_price_tolerance_the_invoice_needs_attention_with_both_prices() -> None:
    body = invoiced_at(14.0)
    result = run(body, ctx=tolerance(pct="5", amount="0.10"))

    assert invoices(result) == []
    assert [a.kind for a in result.actions] == ["supplier", "create_po", "receipt", "receipt"]
    assert result.attention == (
        "invoice HF-INV-5521: WID-100 is invoiced at 14.00, the PO price is 12.50 (+1.50, 12%), "
        "beyond the price tolerance of 5% or 0.10 a unit: correct the price in Cin7 (invoice "
        "or order); the invoice is not posted until then",
    )
    posted = settle(body, ctx=tolerance(pct="5", amount="0.10"))
    final = run(body, posted, ctx=tolerance(pct="5", amount="0.10"))
    assert (final.status, final.actions) == ("attention", ())


def test_by_default_prices_must_agree() -> None:
    result = run(invoiced_at(12.49))

    assert result.attention[0].startswith(
        "invoice HF-INV-5521: WID-100 is invoiced at 12.49, the PO price is 12.50 (-0.01, -0.1%)"
    )


def test_an_invoice_waiting_for_a_price_correction_keeps_its_turn_on_the_goods() -> None:
    body = invoiced_at(14.0)
    task = "aaaaaaaa-0000-4000-8000-000000000001"
    put_away = {"TaskID": task, "Status": "AUTHORISED", "Lines": body["StockReceived"]["Lines"]}
    body.update(Type="Advanced Purchase", PutAway=[put_away], CreditNote=[])
    body["StockReceived"] = [{**put_away, "Status": "DRAFT"}]
    second = {**BASE["Invoice"], "InvoiceNumber": "HF-INV-5530", "AdditionalCharges": []}
    second.update(Lines=[BASE["Invoice"]["Lines"][0]], TotalBeforeTax=125, Tax=12.5, Total=137.5)
    body["Invoice"] = [{**body["Invoice"], "TaskID": task}, {**second, "TaskID": task}]

    result = run(body)

    assert invoices(result) == []
    assert [h.reason for h in result.holds] == [
        "WID-100: invoiced 10, received in QAD 10, 10 waiting for earlier invoices"
    ]


# --- 3. service and non-inventory lines, Service purchases -----------------------------------

CALIBRATION = {
    "ProductID": "9e9e9e9e-0000-4000-8000-000000000473",
    "SKU": "CST-CAL-1",
    "Name": "Calibration Service",
    "Quantity": 1,
    "Price": 150,
    "Discount": 0,
    "Tax": 15,
    "TaxRule": "GST on Imports",
    "Total": 150,
    "NonInventory": True,
}


def with_service_line(account: str = "473") -> dict[str, Any]:
    """The reference purchase plus one calibration service, ordered and invoiced, never received."""
    body = payload()
    body["Order"]["Lines"].append(dict(CALIBRATION))
    body["Order"].update(TotalBeforeTax=375, Tax=37.5, Total=412.5)
    body["Invoice"]["Lines"].append({**CALIBRATION, "Account": account})
    body["Invoice"].update(TotalBeforeTax=375, Tax=37.5, Total=412.5)
    return body


def service_purchase(**invoice: Any) -> dict[str, Any]:
    """A Cin7 Service purchase: additional charges only, invoice first, never received."""
    charge = {
        "Description": "Annual calibration",
        "Reference": "SVC-2024",
        "Quantity": 1,
        "Price": 480,
        "Discount": 0,
        "Tax": 48,
        "TaxRule": "GST on Imports",
        "Total": 480,
    }
    body = payload(
        ID="3d3d3d3d-0000-4000-8000-000000000001",
        OrderNumber="PO-00430",
        Type="Service Purchase",
        IsServiceOnly=True,
        Approach="INVOICE",
        Location="",
    )
    body["Order"] = {
        "Status": "AUTHORISED",
        "Lines": [],
        "AdditionalCharges": [charge],
        "TotalBeforeTax": 480,
        "Tax": 48,
        "Total": 528,
    }
    body.pop("StockReceived")
    body["Invoice"] = [
        {
            "TaskID": "3d3d3d3d-0000-4000-8000-000000000001",
            "InvoiceNumber": "HF-SVC-88",
            "InvoiceDate": "2024-05-09T00:00:00",
            "InvoiceDueDate": "2024-06-08T00:00:00",
            "Status": "AUTHORISED",
            "Lines": [],
            "AdditionalCharges": [{**charge, "Account": "473"}],
            "TotalBeforeTax": 480,
            "Tax": 48,
            "Total": 528,
            **invoice,
        }
    ]
    body["CreditNote"] = []
    return body


def test_a_service_line_is_never_a_po_line_nor_waited_for() -> None:
    result = run(with_service_line())

    po = next(a for a in result.actions if a.kind == "create_po")
    assert [line.sku for line in po.lines] == ["WID-100", "BRK-20"]  # type: ignore[attr-defined]
    (invoice,) = invoices(result)
    assert result.holds == ()
    assert [m.sku for m in invoice.matching] == ["WID-100", "BRK-20"]
    assert [(g.gl_code, g.amount, g.description, g.cin7_account) for g in invoice.gl_lines] == [
        ("4730", Decimal("150.00"), "CST-CAL-1 Calibration Service", "473"),
        ("6100", Decimal("30.00"), "Freight", "425"),
    ]
    assert invoice.amount == Decimal("412.50")
    assert "item:CST-CAL-1" not in [a.natural_key for a in result.actions]


def test_invoice_first_waits_for_the_goods_only_never_for_the_service() -> None:
    body = with_service_line()
    body["Approach"] = "INVOICE"
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}

    (hold,) = run(body).holds

    assert hold.reason == (
        "WID-100: invoiced 10, received in QAD 0; BRK-20: invoiced 40, received in QAD 0"
    )


def test_a_service_line_on_an_unmapped_account_blocks_naming_the_account() -> None:
    result = run(with_service_line(account="485"))

    assert result.status == "blocked"
    assert result.missing == ("account 485 (CST-CAL-1 Calibration Service)",)


def test_a_service_line_without_an_account_fails_the_purchase() -> None:
    body = with_service_line()
    body["Invoice"]["Lines"][-1]["Account"] = ""

    result = run(body)

    assert result.status == "failed"
    assert result.problems == (
        "invoice HF-INV-5521 line 3 (CST-CAL-1): not a stocked product and no account",
    )


def test_a_service_purchase_becomes_a_supplier_invoice_without_a_po() -> None:
    result = run(service_purchase())

    assert result.status == "pending"
    assert [a.kind for a in result.actions] == ["supplier", "invoice"]
    (invoice,) = invoices(result)
    assert invoice.natural_key == f"invoice:{CODE}:PO-00430:HF-SVC-88"
    assert (invoice.po_number, invoice.matching) == ("", ())
    assert [(g.gl_code, g.amount) for g in invoice.gl_lines] == [("4730", Decimal("480.00"))]
    assert invoice.amount == Decimal("528.00")
    assert invoice.describe() == f"post invoice HF-SVC-88 from {CODE} without a PO: 528.00 USD"
    assert result.po_number is None
    posted = settle(service_purchase())
    assert run(service_purchase(), posted).status == "posted"
    assert [k for k in posted if k.startswith(("po:", "receipt:"))] == []


def test_a_purchase_of_non_inventory_products_only_needs_no_po() -> None:
    body = payload()
    body["Order"]["Lines"] = [dict(CALIBRATION)]
    body["Order"].update(TotalBeforeTax=180, Tax=18, Total=198)
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}
    body["Invoice"]["Lines"] = [{**CALIBRATION, "Account": "473"}]
    body["Invoice"].update(TotalBeforeTax=180, Tax=18, Total=198)

    result = run(body)

    assert [a.kind for a in result.actions] == ["supplier", "invoice"]
    assert invoices(result)[0].po_number == ""


def test_a_service_purchase_voided_after_its_invoice_posted_needs_a_person() -> None:
    posted = settle(service_purchase())
    body = service_purchase(Status="VOIDED")
    body["Status"] = "VOIDED"
    body["Order"]["Status"] = "VOIDED"

    result = run(body, posted)

    assert (result.status, result.actions) == ("attention", ())
    assert result.attention == (
        "PO-00430 was voided in Cin7 after QAD took its invoices HF-SVC-88: reverse them in "
        "QAD with a credit note",
    )


def test_an_unmapped_account_on_a_later_invoice_holds_only_that_invoice() -> None:
    posted = settle(service_purchase())
    body = service_purchase()
    extra = {**body["Invoice"][0], "InvoiceNumber": "HF-SVC-89"}
    extra["AdditionalCharges"] = [{**extra["AdditionalCharges"][0], "Account": "485"}]
    body["Invoice"].append(extra)

    result = run(body, posted)

    assert (result.status, result.missing) == ("blocked", ("account 485 (Annual calibration)",))


# --- 6. each receipt at the site of its own location ------------------------------------------


def received_at(*locations: str) -> dict[str, Any]:
    """The reference purchase with its three receipt lines at these Cin7 locations."""
    body = payload()
    for line, location in zip(body["StockReceived"]["Lines"], locations, strict=True):
        line["Location"] = location
    return body


def receipts(result: Plan) -> list[Any]:
    return [a for a in result.actions if a.kind == "receipt"]


def test_each_receipt_line_goes_to_the_site_of_its_own_location() -> None:
    result = run(received_at("East Coast DC", "Main Warehouse: A-01", "East Coast DC"))

    po = next(a for a in result.actions if a.kind == "create_po")
    assert po.site == "10-100"  # type: ignore[attr-defined]
    first, second = receipts(result)
    assert [(line.sku, line.site) for line in first.lines] == [
        ("WID-100", "10-200"),
        ("BRK-20", "10-200"),
    ]
    assert [(line.sku, line.site) for line in second.lines] == [("WID-100", "10-100")]
    assert first.describe().endswith(": WID-100 6, BRK-20 40 at 10-200")
    assert first.posted_details("RC1")["lines"][0] == {
        "line": 1,
        "sku": "WID-100",
        "quantity": "6",
        "site": "10-200",
    }


def test_one_sku_received_at_two_locations_on_one_day_is_two_lines() -> None:
    body = received_at("East Coast DC", "Main Warehouse", "Main Warehouse")
    body["StockReceived"]["Lines"][1]["Date"] = "2024-05-06T00:00:00"

    (receipt,) = receipts(run(body))

    assert [(line.sku, line.quantity, line.site) for line in receipt.lines] == [
        ("WID-100", Decimal(4), "10-100"),
        ("WID-100", Decimal(6), "10-200"),
        ("BRK-20", Decimal(40), "10-100"),
    ]


def test_an_unmapped_receiving_location_blocks_naming_it() -> None:
    body = received_at("Production Floor", "Main Warehouse", "Production Floor")

    blocked = run(body)
    posted = settle(received_at("Main Warehouse", "Main Warehouse", "Main Warehouse"))
    started = settle(payload() | {"StockReceived": {"Status": "NOT AVAILABLE", "Lines": []}})
    later = run(body, started)

    assert (blocked.status, blocked.missing) == ("blocked", ("location Production Floor",))
    assert run(body, posted).actions == ()  # already received: the location no longer matters
    assert later.missing == ("location Production Floor",)
    assert [a.natural_key for a in later.actions] == ["receipt:PO-00412:2024-05-08"]


def test_a_line_without_a_location_takes_the_purchase_location_then_the_default_site() -> None:
    body = received_at("", "", "")
    no_location = payload(Location="") | {"StockReceived": received_at("", "", "")["StockReceived"]}

    assert {line.site for r in receipts(run(body)) for line in r.lines} == {"10-100"}
    assert {line.site for r in receipts(run(no_location)) for line in r.lines} == {"10-000"}
    nowhere = run(no_location, ctx=PlanContext(domain="10USA", entity="10USACO"))
    assert nowhere.missing == ("location (the purchase names none and no default site is set)",)


def test_receipts_recorded_before_they_kept_their_site_are_not_moved() -> None:
    posted = settle(received_at("East Coast DC", "East Coast DC", "East Coast DC"))
    earlier = {
        key: Posted(
            entry.qad_id,
            {
                **entry.details,
                "lines": [
                    {k: v for k, v in row.items() if k != "site"} for row in entry.details["lines"]
                ],
            },
        )
        if key.startswith("receipt:")
        else entry
        for key, entry in posted.items()
    }

    again = run(received_at("East Coast DC", "East Coast DC", "East Coast DC"), earlier)

    assert (again.status, again.actions) == ("posted", ())


# --- 10. edits and voids after posting ---------------------------------------------------------


def test_an_invoice_edited_after_posting_says_what_changed_and_what_to_do() -> None:
    posted = settle(payload())
    voucher = next(e.qad_id for k, e in posted.items() if k.startswith("invoice:"))
    body = payload()
    lines = body["Invoice"]["Lines"]
    lines[0].update(Quantity=8, Total=100, Tax=10)  # WID-100 10 → 8
    lines[1].update(Price=1.8, Total=72, Tax=7.2)  # BRK-20 1.75 → 1.80
    extra = {**lines[1], "SKU": "NUT-M8", "Name": "Nut M8", "Quantity": 5, "Price": 6.4}
    lines.append({**extra, "Total": 32, "Tax": 3.2})
    body["Invoice"].update(TotalBeforeTax=234, Tax=23.4, Total=257.4)

    result = run(body, posted)

    assert (result.status, result.actions) == ("attention", ())
    assert result.attention == (
        f"invoice HF-INV-5521 changed in Cin7 after QAD took it as voucher {voucher} (WID-100 "
        "quantity 10 → 8; BRK-20 price 1.75 → 1.80; NUT-M8 added (5 at 6.40); tax 22.50 → "
        f"23.40; amount 247.50 → 257.40): QAD keeps voucher {voucher} as posted; correct it in "
        "QAD, or reverse it there and enter the corrected document by hand (a credit note "
        "entered in Cin7 posts to QAD by itself)",
    )


def test_an_invoice_line_removed_after_posting_is_named() -> None:
    posted = settle(payload())
    body = payload()
    del body["Invoice"]["Lines"][1]
    body["Invoice"]["AdditionalCharges"] = []
    body["Invoice"].update(TotalBeforeTax=125, Tax=12.5, Total=137.5)

    (reason,) = run(body, posted).attention

    assert "(BRK-20 removed (was 40); account 6100 30.00 → 0.00; tax 22.50 → 12.50;" in reason


def test_an_invoice_voided_after_posting_says_to_reverse_its_voucher() -> None:
    posted = settle(payload())
    voucher = next(e.qad_id for k, e in posted.items() if k.startswith("invoice:"))
    body = payload()
    body["Invoice"]["Status"] = "VOIDED"

    result = run(body, posted)

    assert result.status == "attention"
    assert result.attention == (
        f"invoice HF-INV-5521 was voided in Cin7 after QAD took it as voucher {voucher} "
        f"(247.50 USD): reverse voucher {voucher} in QAD (a credit note entered in Cin7 instead "
        "posts to QAD by itself)",
    )


def test_a_later_credit_note_posts_against_the_same_supplier_and_po() -> None:
    posted = settle(payload())
    body = payload()
    line = {**body["Invoice"]["Lines"][0], "Quantity": 2, "Total": 25, "Tax": 2.5}
    body["CreditNote"] = {
        "CreditNoteNumber": "HF-CN-80",
        "CreditNoteDate": "2024-05-20T00:00:00",
        "Status": "AUTHORISED",
        "Lines": [line],
        "TotalBeforeTax": 25,
        "Tax": 2.5,
        "Total": 27.5,
        "Unstock": {"Status": "NOT AVAILABLE", "Lines": []},
    }

    result = run(body, posted)

    (credit,) = result.actions
    assert credit.kind == "credit_note"
    assert (credit.supplier_code, credit.po_number, credit.reference) == (  # type: ignore[attr-defined]
        CODE,
        "PO-00412",
        "HF-CN-80",
    )
    assert credit.natural_key == f"credit:{CODE}:PO-00412:HF-CN-80"
    assert run(body, settle(body, posted)).status == "posted"
