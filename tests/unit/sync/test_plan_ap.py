"""The planner as accounts payable sees it (issue 8): one QAD invoice per Cin7 purchase invoice,
tolerances, non-stock lines, receiving sites, and edits after posting."""

from __future__ import annotations

import copy
import json
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
