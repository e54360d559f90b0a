"""Properties of the planner over generated purchases, followed through their whole life.

Each example is a purchase's life (strategies.py) replayed stage by stage as Cin7 would show it:
at every stage the planner's plan is checked, "executed" the way the engine records it, and
planned again. Set `CI=1` (or HYPOTHESIS_PROFILE=ci) for a derandomised, reproducible run, and
PLAN_EXAMPLES=N for a deeper one (default 200 per property).
"""

from __future__ import annotations

import os
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import (
    MAPPINGS,
    PRODUCTS,
    PurchaseSpec,
    Stage,
    converted,
    edited,
    execute,
    full_stage,
    over_received,
    purchase_at,
    purchase_specs,
    stages,
    supplier_of,
    with_more,
    without,
)

from ml_connector.sync.actions import (
    CreatePurchaseOrder,
    PostCreditNote,
    PostInvoice,
    PostReceipt,
    ReverseReceipt,
    UpdatePurchaseOrder,
)
from ml_connector.sync.inputs import PlanContext, Posted, fold
from ml_connector.sync.plan import Plan, plan

CTX = PlanContext(domain="10USA", entity="10USACO", default_site="10-000")
SETTLED = {"posted", "held", "waiting", "void", "attention"}
REPRODUCIBLE = bool(os.environ.get("CI")) or os.environ.get("HYPOTHESIS_PROFILE") == "ci"
PROPERTY = settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", "200")),
    derandomize=REPRODUCIBLE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


TOLERANCES = st.sampled_from([Decimal(0), Decimal(25), Decimal(1000)])


def plan_at(
    spec: PurchaseSpec, stage: Stage, posted: dict[str, Posted], ctx: PlanContext = CTX
) -> Plan:
    return plan(purchase_at(spec, stage), supplier_of(spec), MAPPINGS, posted, ctx)


def tolerant(percent: Decimal) -> PlanContext:
    return PlanContext(**{**vars(CTX), "over_receipt_pct": percent})


def quantities(lines: object) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:  # type: ignore[attr-defined]
        sku = fold(line.sku)
        totals[sku] = totals.get(sku, Decimal(0)) + line.quantity
    return totals


def posted_quantities(posted: dict[str, Posted], *prefixes: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for key, entry in posted.items():
        if key.startswith(prefixes):
            for row in entry.details.get("lines", []):
                sku = fold(row["sku"])
                totals[sku] = totals.get(sku, Decimal(0)) + Decimal(row["quantity"])
    return totals


def check_plan(result: Plan, posted: dict[str, Posted], spec: PurchaseSpec | None = None) -> None:
    """Invariants of every plan: unique keys, dependency order, QAD limits, the hold rule, and
    a PO never raised above what Cin7 ordered."""
    keys = [action.natural_key for action in result.actions]
    assert len(keys) == len(set(keys)), f"duplicate natural keys in {keys}"
    assert not [k for k in keys if k in posted and not k.startswith(("po:", "supplier:"))], (
        "a document QAD already holds is planned again"
    )
    assert (
        sum(isinstance(a, CreatePurchaseOrder | UpdatePurchaseOrder) for a in result.actions) <= 1
    )
    assert result.status != "failed", result.problems
    assert result.missing == ()

    # The hold rule, checked against an independent tally of QAD's quantities.
    received = posted_quantities(posted, "receipt:", "unstock:")
    invoiced = posted_quantities(posted, "invoice:")
    for sku, qty in posted_quantities(posted, "credit:").items():
        invoiced[sku] = invoiced.get(sku, Decimal(0)) - qty
    received_before_plan = dict(received)
    planned_receipts: dict[str, set[str]] = {}
    seen: set[str] = set()
    for action in result.actions:
        assert set(action.depends_on) <= seen, f"{action.natural_key} before its dependencies"
        seen.add(action.natural_key)
        if isinstance(action, PostReceipt | ReverseReceipt):
            assert len(action.packing_slip) <= 20
            assert all(line.po_line >= 1 and line.quantity != 0 for line in action.lines)
            for sku, qty in quantities(action.lines).items():
                received[sku] = received.get(sku, Decimal(0)) + qty
                planned_receipts.setdefault(sku, set()).add(action.natural_key)
        elif isinstance(action, PostInvoice):
            assert all(line.po_line >= 1 for line in action.matching)
            for sku, qty in quantities(action.matching).items():
                open_qty = received.get(sku, Decimal(0)) - invoiced.get(sku, Decimal(0))
                assert qty <= open_qty, f"{action.reference}: {sku} {qty} > open {open_qty}"
                already = received_before_plan.get(sku, Decimal(0)) - invoiced.get(sku, Decimal(0))
                if qty > already:
                    assert planned_receipts.get(sku, set()) & set(action.depends_on), (
                        f"{action.reference} needs this plan's receipts of {sku}"
                    )
                invoiced[sku] = invoiced.get(sku, Decimal(0)) + qty
            total = sum((m.quantity * m.unit_price for m in action.matching), Decimal(0))
            total += sum((g.amount for g in action.gl_lines), Decimal(0)) + action.tax_amount
            assert abs(total - action.amount) <= Decimal("0.01")
        elif isinstance(action, PostCreditNote):
            for sku, qty in quantities(action.matching).items():
                assert qty <= invoiced.get(sku, Decimal(0))
                invoiced[sku] = invoiced.get(sku, Decimal(0)) - qty
        elif isinstance(action, CreatePurchaseOrder | UpdatePurchaseOrder):
            assert len(action.number) <= 8
            assert len(action.remarks) <= 40
            assert action.order_number in action.remarks or len(action.order_number) > 35
            assert len(action.supplier_code) <= 8
            numbers = [line.line for line in action.lines]
            assert len(numbers) == len(set(numbers))
            if spec is not None:
                ordered = quantities(spec.lines)
                for line in action.open_lines:
                    assert line.quantity <= ordered.get(fold(line.sku), Decimal(0)), line


def live(spec: PurchaseSpec, ctx: PlanContext = CTX) -> dict[str, Posted]:
    """Replay the purchase's life; at each stage plan, check, execute, and plan again. A stage
    with more received than the order and its tolerance allow posts nothing."""
    posted: dict[str, Posted] = {}
    for stage in stages(spec):
        result = plan_at(spec, stage, posted, ctx)
        check_plan(result, posted, spec)
        if not stage.voided and over_received(spec, stage, ctx.over_receipt_pct):
            assert (result.status, result.actions) == ("attention", ())
            assert (
                "over-receipt tolerance" in result.attention[0]
                or "not on the order" in (result.attention[0])
            )
        if any(isinstance(a, UpdatePurchaseOrder) for a in result.actions):
            assert "po:" + spec.order_number in posted
        if any(isinstance(a, CreatePurchaseOrder) for a in result.actions):
            assert "po:" + spec.order_number not in posted, "a second CreatePurchaseOrder"
        posted = execute(result, posted)
        again = plan_at(spec, stage, posted, ctx)
        assert again.actions == (), [a.describe() for a in again.actions]
        assert again.status in SETTLED, (again.status, again.missing, again.problems)
    return posted


def expected_in_qad(spec: PurchaseSpec) -> dict[str, Decimal]:
    """What Cin7 says is received, less what went back on the credit note, per SKU."""
    expected = {fold(sku): qty for sku, qty in spec.received.items()}
    if spec.credit and spec.credit.unstock:
        for sku, qty in quantities(spec.credit.lines).items():
            expected[sku] = expected.get(sku, Decimal(0)) - qty
    return {sku: qty for sku, qty in expected.items() if qty}


def site_of(spec: PurchaseSpec, location: str) -> str:
    """The QAD site of a Cin7 location, as the strategies render and map it."""
    site = MAPPINGS.lookup("location", location or spec.location or "Main Warehouse")
    assert site is not None
    return site


def expected_places(spec: PurchaseSpec) -> dict[tuple[str, str], Decimal]:
    """What Cin7 says is received, less what went back, per SKU and QAD site."""
    places: dict[tuple[str, str], Decimal] = {}
    for delivery in spec.deliveries:
        for sku, quantity in delivery.lines:
            place = (fold(sku), site_of(spec, delivery.location))
            places[place] = places.get(place, Decimal(0)) + quantity
    if spec.credit and spec.credit.unstock:
        for line in spec.credit.lines:
            place = (fold(line.sku), site_of(spec, spec.credit.location))
            places[place] = places.get(place, Decimal(0)) - line.quantity
    return {place: quantity for place, quantity in places.items() if quantity}


def places_in_qad(posted: dict[str, Posted]) -> dict[tuple[str, str], Decimal]:
    places: dict[tuple[str, str], Decimal] = {}
    for key, entry in posted.items():
        if key.startswith(("receipt:", "unstock:")):
            for row in entry.details["lines"]:
                place = (fold(row["sku"]), row["site"])
                places[place] = places.get(place, Decimal(0)) + Decimal(row["quantity"])
    return {place: quantity for place, quantity in places.items() if quantity}


def received_in_qad(posted: dict[str, Posted]) -> dict[str, Decimal]:
    got = posted_quantities(posted, "receipt:", "unstock:")
    return {sku: qty for sku, qty in got.items() if qty}


@PROPERTY
@given(purchase_specs(), TOLERANCES)
def test_every_stage_plans_unique_ordered_actions_and_settles_after_execution(
    spec: PurchaseSpec, tolerance: Decimal
) -> None:
    posted = live(spec, tolerant(tolerance))

    if spec.voided:
        return
    if over_received(spec, full_stage(spec), tolerance):
        ordered = quantities(spec.lines)
        for sku, quantity in received_in_qad(posted).items():
            assert quantity <= ordered.get(sku, Decimal(0)) * (100 + tolerance) / 100
    else:
        assert received_in_qad(posted) == expected_in_qad(spec)
        assert places_in_qad(posted) == expected_places(spec)


@PROPERTY
@given(purchase_specs(covered=True, voids=False, over=False))
def test_when_receipts_cover_the_invoices_nothing_stays_held(spec: PurchaseSpec) -> None:
    posted = live(spec)

    final = plan_at(spec, full_stage(spec), posted)

    assert final.holds == ()
    assert final.status == "posted"
    invoiced = posted_quantities(posted, "invoice:")
    expected: dict[str, Decimal] = {}
    for invoice in spec.invoices:
        stocked = [line for line in invoice.lines if not line.service]
        for sku, qty in quantities(stocked).items():
            expected[sku] = expected.get(sku, Decimal(0)) + qty
    assert invoiced == expected


@PROPERTY
@given(purchase_specs(covered=True, voids=False, over=False))
def test_services_are_never_ordered_received_or_waited_for(spec: PurchaseSpec) -> None:
    posted = live(spec)

    assert plan_at(spec, full_stage(spec), posted).status == "posted"
    services = {fold(line.sku) for line in spec.lines if line.service}
    po = posted.get("po:" + spec.order_number)
    if po is not None:
        assert not services & {fold(row["sku"]) for row in po.details["lines"]}
    elif spec.invoices:
        assert spec.service_purchase or all(line.service for line in spec.lines)
    documents = [e for k, e in posted.items() if k.startswith("invoice:")]
    assert len(documents) == len(spec.invoices)
    booked = sum(
        (Decimal(row["amount"]) for entry in documents for row in entry.details["gl"]),
        Decimal(0),
    )
    billed = sum(
        (
            line.quantity * line.price
            for invoice in spec.invoices
            for line in invoice.lines
            if line.service
        ),
        Decimal(0),
    ) + sum((price for invoice in spec.invoices for _, _, price in invoice.charges), Decimal(0))
    assert abs(booked - billed) <= Decimal("0.01") * max(1, len(spec.invoices) * 4)


@PROPERTY
@given(purchase_specs(voids=False, over=False), st.data())
def test_an_edit_after_posting_is_an_update_never_a_second_po(
    spec: PurchaseSpec, data: st.DataObject
) -> None:
    assume(not spec.service_purchase)  # nothing stocked: no PO to edit
    posted = live(spec)
    ordered = {line.sku for line in spec.lines} | set(spec.received)
    new_skus = [sku for sku in PRODUCTS if sku not in ordered]
    add = data.draw(st.sampled_from([None, *new_skus]))
    change = edited(spec, add=add, bump=data.draw(st.integers(4, 20)))

    result = plan_at(change, full_stage(change), posted)

    check_plan(result, posted, change)
    updates = [a for a in result.actions if isinstance(a, UpdatePurchaseOrder)]
    assert not [a for a in result.actions if isinstance(a, CreatePurchaseOrder)]
    assert len(updates) == 1
    update = updates[0]
    before = {row["line"]: row["sku"] for row in posted["po:" + spec.order_number].details["lines"]}
    assert {line.line: line.sku for line in update.lines if line.line in before} == before
    if add is not None:
        assert [update.line(n).sku for n in update.added] == [add]  # type: ignore[union-attr]
        assert update.added == (max(before) + 1,)
    else:
        assert update.changed == (1,)
    settled = plan_at(change, full_stage(change), execute(result, posted))
    assert settled.actions == ()


@PROPERTY
@given(purchase_specs(voids=False), TOLERANCES, st.data())
def test_receipts_changed_after_posting_are_adjusted_never_posted_twice(
    spec: PurchaseSpec, tolerance: Decimal, data: st.DataObject
) -> None:
    ctx = tolerant(tolerance)
    assume(not over_received(spec, full_stage(spec), tolerance))
    posted = live(spec, ctx)
    changes = ["more", "undo"] if spec.deliveries else []
    if not spec.advanced:
        changes.append("convert")
    if spec.credit and spec.credit.unstock:
        changes = [c for c in changes if c != "undo"]  # the return would exceed what arrived
    assume(changes)
    change = data.draw(st.sampled_from(changes))
    if change == "convert":
        later = converted(spec)
    elif change == "more":
        later = with_more(spec, data.draw(st.integers(0, len(spec.deliveries) - 1)), 3)
    else:
        later = without(spec, data.draw(st.integers(0, len(spec.deliveries) - 1)))

    result = plan_at(later, full_stage(later), posted, ctx)

    check_plan(result, posted, later)
    if over_received(later, full_stage(later), tolerance):
        assert (result.status, result.actions) == ("attention", ())
        return
    receipts = [a for a in result.actions if isinstance(a, PostReceipt)]
    if change == "convert":
        assert result.actions == ()  # same goods under new block keys: nothing to receive again
    else:
        assert len(receipts) == 1
        assert receipts[0].natural_key.endswith("#adj1")
    posted = execute(result, posted)
    assert received_in_qad(posted) == expected_in_qad(later)
    assert places_in_qad(posted) == expected_places(later)
    again = plan_at(later, full_stage(later), posted, ctx)
    assert again.actions == ()
    assert again.status in SETTLED
