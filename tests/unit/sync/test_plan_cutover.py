"""The cut-over rule of the pure planner: history before `--since` creates nothing in QAD.

The reference purchase is ordered 2024-05-01, received 2024-05-06 and 2024-05-08 and invoiced
2024-05-09 (tests/fixtures/simple_purchase.json)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from strategies import execute

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.actions import CreatePurchaseOrder
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import Plan, activity_after_cutover, before_cutover, plan

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
SUPPLIER = Supplier.from_cin7(json.loads((FIXTURES / "supplier.json").read_text()))
MAPS = Mappings(
    account={"425": "6100", "630": "1400", "460": "6150"},
    item={"WID-100": "W100", "BRK-20": "B20", "NUT-M8": "NM8"},
    location={"Main Warehouse": "10-100", "Production Floor": "10-200"},
    payment_term={"30 days": "N30"},
    tax_rule={"GST on Imports": "GST-IMP"},
    currency={"USD": "USD", "EUR": "EUR"},
)
CTX = PlanContext(domain="10USA", entity="10USACO", default_site="10-000")


def run(ctx: PlanContext, posted: dict[str, Posted] | None = None, **changes: Any) -> Plan:
    body = copy.deepcopy(BASE)
    body.update(changes)
    return plan(Purchase.from_cin7(body), SUPPLIER, MAPS, posted or {}, ctx)


def test_a_purchase_with_nothing_after_the_cutover_creates_nothing() -> None:
    result = run(replace(CTX, cutover=date(2024, 6, 1)))

    assert result.status == "before-cutover"
    assert result.actions == ()
    assert result.notes == ("ordered 2024-05-01 before the cut-over 2024-06-01",)


def test_activity_after_the_cutover_puts_the_purchase_on_the_worklist_with_its_actions() -> None:
    ctx = replace(CTX, cutover=date(2024, 5, 7))
    result = run(ctx)
    unrestricted = run(CTX)

    assert result.status == "go-live"
    assert result.actions == unrestricted.actions  # what would be posted, and nothing else
    [note] = result.notes
    assert "ordered 2024-05-01 before the cut-over 2024-05-07" in note
    assert "receipt 2024-05-08 dated 2024-05-08" in note
    assert "invoice HF-INV-5521 dated 2024-05-09" in note
    assert "receipt 2024-05-06" not in note  # before the cut-over: not activity after it


def test_a_person_releasing_it_plans_it_as_if_there_were_no_cutover() -> None:
    ctx = replace(CTX, cutover=date(2024, 5, 7), cutover_released=True)

    assert run(ctx) == run(CTX)


def test_once_qad_holds_the_po_the_purchase_plans_as_usual() -> None:
    ctx = replace(CTX, cutover=date(2024, 6, 1))
    full = run(CTX)
    upto_po = [i for i, a in enumerate(full.actions) if isinstance(a, CreatePurchaseOrder)]
    posted = execute(Plan(status="pending", actions=full.actions[: upto_po[0] + 1]), {})
    assert any(key.startswith("po:") for key in posted)

    result = run(ctx, posted)

    assert result == run(CTX, posted)
    assert result.status == "pending"


def test_a_purchase_ordered_on_or_after_the_cutover_is_not_affected() -> None:
    assert run(replace(CTX, cutover=date(2024, 5, 1))) == run(CTX)
    assert run(replace(CTX, cutover=date(2024, 4, 1))) == run(CTX)


def test_a_void_purchase_before_the_cutover_stays_void() -> None:
    result = run(replace(CTX, cutover=date(2024, 6, 1)), Status="VOIDED")

    assert result.status == "void"


def test_the_helpers_read_dates_only_from_the_purchase() -> None:
    purchase = Purchase.from_cin7(BASE)

    assert before_cutover(purchase, replace(CTX, cutover=date(2024, 5, 2)))
    assert not before_cutover(purchase, CTX)
    assert activity_after_cutover(purchase, date(2024, 5, 9)) == (
        "invoice HF-INV-5521 dated 2024-05-09",
    )
    assert activity_after_cutover(purchase, date(2024, 5, 10)) == ()
