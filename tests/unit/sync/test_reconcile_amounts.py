"""Month-end figures: one rounding rule shared with posting, and a credit-notes column."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from strategies import execute

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.actions import PostInvoice
from ml_connector.sync.amounts import MoneyRule, currency_decimals
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import plan
from ml_connector.sync.reconcile import record_amounts

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
SUPPLIER = Supplier.from_cin7(json.loads((FIXTURES / "supplier.json").read_text()))
MAPS = Mappings(
    account={"425": "6100", "630": "1400"},
    item={"WID-100": "W100", "BRK-20": "B20"},
    location={"Main Warehouse": "10-100"},
    payment_term={"30 days": "N30"},
    tax_rule={"GST on Imports": "GST-IMP"},
    currency={"USD": "USD"},
)
CTX = PlanContext(domain="10USA", entity="10USACO")


def three_tenths_of_a_cent() -> dict[str, Any]:
    """The reference purchase with WID-100 at 42.50 and tax 22.665: Cin7's total is 547.665."""
    body = copy.deepcopy(BASE)
    for document in (body["Order"], body["Invoice"]):
        document["Lines"][0].update(Price=42.5, Total=425)
        document.update(TotalBeforeTax=525, Tax=22.665, Total=547.665)
    return body


def with_credit_note(body: dict[str, Any]) -> dict[str, Any]:
    line = {**body["Invoice"]["Lines"][0], "Quantity": 1, "Total": 42.5, "Tax": 0.005}
    body["CreditNote"] = {
        "CreditNoteNumber": "HF-CN-9",
        "CreditNoteDate": "2024-05-20T00:00:00",
        "Status": "AUTHORISED",
        "Lines": [line],
        "AdditionalCharges": [],
        "TotalBeforeTax": 42.5,
        "Tax": 0.005,
        "Total": 42.505,
        "Unstock": {"Status": "NOT AVAILABLE", "Lines": []},
    }
    return body


def settle(body: dict[str, Any]) -> tuple[Purchase, dict[str, Posted]]:
    purchase = Purchase.from_cin7(body)
    posted: dict[str, Posted] = {}
    for _ in range(3):
        posted = execute(plan(purchase, SUPPLIER, MAPS, posted, CTX), posted)
    assert plan(purchase, SUPPLIER, MAPS, posted, CTX).status == "posted"
    return purchase, posted


def test_half_a_cent_is_posted_and_reported_the_same_way() -> None:
    purchase, posted = settle(three_tenths_of_a_cent())

    (invoice,) = [e for k, e in posted.items() if k.startswith("invoice:")]
    amounts = record_amounts(purchase, posted, "posted")

    assert invoice.details["amount"] == "547.67"
    assert amounts["invoiced"] == {"USD": "547.67"}
    assert amounts["posted"] == {"USD": "547.67"}


def test_credit_notes_have_their_own_column_and_the_totals_agree() -> None:
    purchase, posted = settle(with_credit_note(three_tenths_of_a_cent()))

    amounts = record_amounts(purchase, posted, "posted")

    invoiced, credited, net = (
        Decimal(amounts[m]["USD"]) for m in ("invoiced", "credited", "posted")
    )
    assert (invoiced, credited, net) == (Decimal("547.67"), Decimal("42.51"), Decimal("505.16"))
    assert invoiced - credited == net
    assert amounts["held"] == {"USD": "0.00"}


def test_held_is_what_cin7_bills_and_qad_does_not_hold_yet() -> None:
    body = three_tenths_of_a_cent()
    body["Approach"] = "INVOICE"
    body["StockReceived"] = {"Status": "NOT AVAILABLE", "Lines": []}
    purchase = Purchase.from_cin7(body)
    result = plan(purchase, SUPPLIER, MAPS, {}, CTX)
    posted = execute(result, {})

    amounts = record_amounts(purchase, posted, "held")

    assert not [a for a in result.actions if isinstance(a, PostInvoice)]
    assert amounts["held"] == {"USD": "547.67"}
    assert amounts["posted"] == {"USD": "0.00"}


@pytest.mark.parametrize(
    ("mode", "currency", "value", "expected"),
    [
        ("half-up", "USD", "547.665", "547.67"),
        ("half-up", "USD", "-547.665", "-547.67"),
        ("half-even", "USD", "547.665", "547.66"),
        ("half-down", "USD", "547.665", "547.66"),
        ("half-up", "JPY", "1234.5", "1235"),
        ("half-up", "KWD", "1.2345", "1.235"),
        ("half-up", "usd", "-0.004", "0.00"),
    ],
)
def test_the_money_rule_rounds_to_the_currency_decimals(
    mode: str, currency: str, value: str, expected: str
) -> None:
    assert MoneyRule(mode).text(Decimal(value), currency) == expected  # type: ignore[arg-type]


def test_unknown_rounding_modes_and_currencies() -> None:
    with pytest.raises(ValueError, match="rounding must be one of half-up, half-even"):
        MoneyRule("up")  # type: ignore[arg-type]
    assert currency_decimals("XYZ") == 2


def test_an_unreadable_posted_amount_counts_as_nothing() -> None:
    purchase, posted = settle(three_tenths_of_a_cent())
    key = next(k for k in posted if k.startswith("invoice:"))
    posted[key] = Posted(posted[key].qad_id, {**posted[key].details, "amount": "n/a"})

    amounts = record_amounts(purchase, posted, "posted")

    assert amounts["posted"] == {"USD": "0.00"}
