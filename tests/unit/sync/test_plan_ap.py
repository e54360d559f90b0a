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
