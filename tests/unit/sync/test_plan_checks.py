"""Malformed Cin7 purchases fail with reasons a finance user can read, and nothing is planned."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.checks import ISO_4217, check_purchase
from ml_connector.sync.inputs import Mappings, PlanContext
from ml_connector.sync.plan import plan

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
SUPPLIER_JSON = json.loads((FIXTURES / "supplier.json").read_text())

Edit = Callable[[dict[str, Any]], None]


def problems_after(edit: Edit, supplier: dict[str, Any] | None = None) -> tuple[str, ...]:
    body = copy.deepcopy(BASE)
    edit(body)
    result = plan(
        Purchase.from_cin7(body),
        Supplier.from_cin7(supplier or SUPPLIER_JSON),
        Mappings(),
        {},
        PlanContext(domain="10USA", entity="10USACO"),
    )
    assert result.status == "failed"
    assert result.actions == ()
    return result.problems


def order_line(index: int, **changes: Any) -> Edit:
    return lambda body: body["Order"]["Lines"][index].update(changes)


def invoice_line(index: int, **changes: Any) -> Edit:
    return lambda body: body["Invoice"]["Lines"][index].update(changes)


def both(*edits: Edit) -> Edit:
    def apply(body: dict[str, Any]) -> None:
        for edit in edits:
            edit(body)

    return apply


def test_the_reference_purchase_is_well_formed() -> None:
    assert check_purchase(Purchase.from_cin7(BASE), Supplier.from_cin7(SUPPLIER_JSON)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            both(
                order_line(1, Quantity=0, Total=0),
                lambda b: b["Order"].update(TotalBeforeTax=155, Total=177.5),
            ),
            ("line 2 (BRK-20): quantity is 0",),
            id="zero-quantity",
        ),
        pytest.param(
            order_line(0, Total=130),
            (
                "line 1 (WID-100): 10 × 12.50 less 0% = 125.00, but Cin7's total is 130.00",
                "order total before tax 225.00 does not equal lines 200.00 + charges 30.00",
            ),
            id="line-total",
        ),
        pytest.param(
            order_line(0, Quantity=None, Total=None),
            ("line 1 (WID-100): quantity is missing",),
            id="missing-quantity",
        ),
        pytest.param(
            order_line(1, Price=-1.75, Total=-70),
            (
                "line 2 (BRK-20): price is negative (-1.75)",
                "order total before tax 225.00 does not equal lines 55.00 + charges 30.00",
            ),
            id="negative-price",
        ),
        pytest.param(
            order_line(0, Price=None, Total=None),
            ("line 1 (WID-100): price is missing",),
            id="missing-price",
        ),
        pytest.param(
            order_line(0, Price=0, Total=0),
            (
                "line 1 (WID-100): price is 0",
                "order total before tax 225.00 does not equal lines 70.00 + charges 30.00",
            ),
            id="zero-price",
        ),
        pytest.param(
            order_line(0, Discount=120),
            ("line 1 (WID-100): discount 120% is outside 0-100",),
            id="discount-range",
        ),
        pytest.param(
            order_line(1, SKU=""),
            ("line 2 (Bracket 20mm): no SKU",),
            id="missing-sku",
        ),
        pytest.param(
            order_line(1, SKU="wid-100", Quantity=10, Price=12.5, Total=125),
            (
                "SKU WID-100 is on more than one order line (lines 1 and 2)",
                "order total before tax 225.00 does not equal lines 250.00 + charges 30.00",
            ),
            id="duplicate-sku",
        ),
        pytest.param(
            lambda b: b["Order"].update(Total=250),
            ("order total 250.00 does not equal 225.00 before tax + 22.50 tax",),
            id="document-total",
        ),
        pytest.param(
            lambda b: b["Order"]["AdditionalCharges"][0].update(Price=None, Total=None),
            ("charge 1 (Freight): price is missing",),
            id="charge-price",
        ),
        pytest.param(
            lambda b: b["Order"]["AdditionalCharges"][0].update(Total=35),
            (
                "charge 1 (Freight): 1 × 30.00 less 0% = 30.00, but Cin7's total is 35.00",
                "order total before tax 225.00 does not equal lines 195.00 + charges 35.00",
            ),
            id="charge-total",
        ),
        pytest.param(
            lambda b: b["Order"]["AdditionalCharges"][0].update(Quantity=0, Discount=-5),
            (
                "charge 1 (Freight): quantity is 0",
                "charge 1 (Freight): discount -5% is outside 0-100",
            ),
            id="charge-quantity-and-discount",
        ),
        pytest.param(
            lambda b: b["Order"].update(
                Lines=[], AdditionalCharges=[], TotalBeforeTax=0, Tax=0, Total=0
            ),
            ("the order has no lines",),
            id="empty-order",
        ),
        pytest.param(
            invoice_line(1, Quantity=-40, Total=-70),
            (
                "invoice HF-INV-5521 line 2 (BRK-20): quantity is negative (-40)",
                "invoice HF-INV-5521 total before tax 225.00 does not equal lines 55.00 + "
                "charges 30.00",
            ),
            id="invoice-negative",
        ),
        pytest.param(
            invoice_line(0, SKU=""),
            ("invoice HF-INV-5521 line 1 (Widget 100mm): no SKU",),
            id="invoice-product-without-sku",
        ),
        pytest.param(
            invoice_line(0, SKU="", ProductID=None, Account=""),
            ("invoice HF-INV-5521 line 1 (Widget 100mm): no SKU and no account",),
            id="invoice-line-without-sku-or-account",
        ),
        pytest.param(
            lambda b: b["Invoice"]["AdditionalCharges"][0].update(Account=""),
            ("invoice HF-INV-5521 charge 1 (Freight): no account",),
            id="invoice-charge-account",
        ),
        pytest.param(
            lambda b: b["Invoice"].update(InvoiceDate=None),
            ("invoice HF-INV-5521 has no invoice date",),
            id="invoice-date",
        ),
        pytest.param(
            lambda b: b["Invoice"].update(InvoiceNumber="", Total=1),
            ("invoice 1 (no number) total 1.00 does not equal 225.00 before tax + 22.50 tax",),
            id="invoice-without-number",
        ),
        pytest.param(
            lambda b: b.update(SupplierCurrency="XYZ"),
            ("currency 'XYZ' is not a known currency",),
            id="unknown-currency",
        ),
        pytest.param(
            lambda b: b.update(SupplierCurrency="EUR", CurrencyRate=None),
            ("currency rate is missing (purchase in EUR, base currency USD)",),
            id="missing-rate",
        ),
        pytest.param(
            lambda b: b.update(CurrencyRate=0, BaseCurrency="ZZZ"),
            (
                "base currency 'ZZZ' is not a known currency",
                "currency rate 0 is not a positive number",
            ),
            id="bad-rate-and-base",
        ),
        pytest.param(
            lambda b: b["Invoice"].update(CurrencyRate=-1),
            ("invoice HF-INV-5521: currency rate -1 is not a positive number",),
            id="invoice-rate",
        ),
        pytest.param(
            lambda b: b.update(OrderNumber="", OrderDate=None, SupplierID=None),
            (
                "the purchase has no OrderNumber",
                "the purchase has no supplier",
                "the purchase has no order date",
            ),
            id="header",
        ),
        pytest.param(
            lambda b: b["StockReceived"]["Lines"][0].update(Quantity=0),
            ("receipt 2024-05-06 line 1 (WID-100): quantity is 0",),
            id="receipt-quantity",
        ),
        pytest.param(
            lambda b: b["StockReceived"]["Lines"][1].update(SKU="", Quantity=None),
            (
                "receipt 2024-05-08 line 1 (Widget 100mm): no SKU",
                "receipt 2024-05-08 line 1 (Widget 100mm): quantity is missing",
            ),
            id="receipt-sku",
        ),
        pytest.param(
            lambda b: b["StockReceived"]["Lines"][1].update(Date=None),
            ("receipt with no date line 1 (WID-100): no date",),
            id="receipt-date",
        ),
    ],
)
def test_malformed_purchase_fails_with_readable_reasons(
    edit: Edit, expected: tuple[str, ...]
) -> None:
    assert problems_after(edit) == expected


def test_tax_inclusive_totals_are_checked_against_the_total() -> None:
    def inclusive(body: dict[str, Any]) -> None:
        body["TaxCalculation"] = "Inclusive"
        body["Order"].update(TotalBeforeTax=207.5, Total=230)

    assert problems_after(inclusive) == (
        "order total 230.00 does not equal lines 195.00 + charges 30.00",
        "invoice HF-INV-5521 total 247.50 does not equal lines 195.00 + charges 30.00",
    )


def test_supplier_with_an_unknown_currency_fails_the_purchase() -> None:
    assert problems_after(lambda b: None, {**SUPPLIER_JSON, "Currency": "DOLLARS"}) == (
        "supplier currency 'DOLLARS' is not a known currency",
    )


def test_no_currency_anywhere_fails() -> None:
    def no_currency(body: dict[str, Any]) -> None:
        body.update(SupplierCurrency="", BaseCurrency="")

    assert problems_after(no_currency, {**SUPPLIER_JSON, "Currency": ""}) == (
        "the purchase has no currency",
    )


def test_invoice_and_credit_note_numbers_must_be_unique_on_a_purchase() -> None:
    def twice(body: dict[str, Any]) -> None:
        body["Type"] = "Advanced Purchase"
        body["PutAway"] = [
            {"TaskID": "aaaaaaaa-0000-4000-8000-000000000001", **body.pop("StockReceived")}
        ]
        body["Invoice"] = [body["Invoice"], copy.deepcopy(body["Invoice"])]
        note = {
            "CreditNoteNumber": "CN-1",
            "CreditNoteDate": "2024-05-20T00:00:00",
            "Status": "AUTHORISED",
            "Lines": [],
            "Unstock": [],
        }
        body["CreditNote"] = [note, dict(note)]

    assert problems_after(twice) == (
        "invoice number HF-INV-5521 is used by 2 invoices on this purchase; QAD keeps one invoice "
        "per supplier and number",
        "credit note number CN-1 is used by 2 credit notes",
    )


def test_credit_note_problems_and_returns_of_goods_never_received() -> None:
    def credit(body: dict[str, Any]) -> None:
        line = {**body["Invoice"]["Lines"][0], "Quantity": 0, "Total": 0}
        body["CreditNote"] = {
            "CreditNoteNumber": "",
            "CreditNoteDate": None,
            "Status": "AUTHORISED",
            "Lines": [line],
            "AdditionalCharges": [{"Description": "Restocking", "Price": 5, "Total": 5}],
            "TotalBeforeTax": 5,
            "Tax": 0,
            "Total": 5,
            "Unstock": {
                "Status": "AUTHORISED",
                "Lines": [{"SKU": "NUT-M8", "Date": "2024-05-20T00:00:00", "Quantity": 1}],
            },
        }

    assert problems_after(credit) == (
        "credit note 1 (no number) has no date",
        "credit note 1 (no number) line 1 (WID-100): quantity is 0",
        "credit note 1 (no number) charge 1 (Restocking): no account",
        "credit note 1 (no number) returns NUT-M8, which was never received on this purchase",
    )


def test_drafts_are_not_checked() -> None:
    body = copy.deepcopy(BASE)
    body["Invoice"]["Status"] = "DRAFT"
    body["Invoice"]["Lines"][0]["Quantity"] = 0
    body["StockReceived"]["Status"] = "DRAFT"
    body["StockReceived"]["Lines"][0]["Quantity"] = 0

    assert check_purchase(Purchase.from_cin7(body), None) == []


def test_iso_4217_holds_active_codes_only() -> None:
    assert {"USD", "EUR", "AUD", "NZD", "JPY", "CHF", "XCG", "ZWG"} <= ISO_4217
    assert not {"XTS", "XXX", "HRK", "XYZ", "usd"} & ISO_4217
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217)


def test_planning_again_checks_again_whenever_the_purchase_or_supplier_differs() -> None:
    # The engine plans a purchase again after posting: each plan checks what it is given.
    purchase = Purchase.from_cin7(BASE)
    ctx = PlanContext(domain="10USA", entity="10USACO")
    good = Supplier.from_cin7(SUPPLIER_JSON)
    bad = Supplier.from_cin7({**SUPPLIER_JSON, "Currency": "DOLLARS"})
    assert plan(purchase, good, Mappings(), {}, ctx).status != "failed"
    assert plan(purchase, bad, Mappings(), {}, ctx).problems == (
        "supplier currency 'DOLLARS' is not a known currency",
    )
    assert plan(purchase, good, Mappings(), {}, ctx).status != "failed"
    body = copy.deepcopy(BASE)
    body["OrderNumber"] = ""
    assert plan(Purchase.from_cin7(body), good, Mappings(), {}, ctx).problems == (
        "the purchase has no OrderNumber",
    )
    assert plan(purchase, bad, Mappings(), {}, ctx).status == "failed"
