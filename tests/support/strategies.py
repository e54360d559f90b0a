"""Hypothesis strategies for realistic Cin7 purchases, rendered as Cin7 JSON and read back.

A `PurchaseSpec` describes a purchase's whole life (order, deliveries, invoices, a credit note,
a void); `render(spec, stage)` gives the Cin7 detail document at one stage of that life, in the
shape Cin7 sends (objects for Simple purchases, task blocks with PutAway for Advanced ones), so
every generated purchase also goes through `Purchase.from_cin7`. `stages(spec)` lists the
stages in the order Cin7's `Approach` allows them: STOCK receives before invoicing, INVOICE
invoices first. `MAPPINGS` maps every reference the generator can produce.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from ml_connector.cin7.models import Purchase, Supplier
from ml_connector.sync.actions import (
    Action,
    ClosePurchaseOrder,
    CreatePurchaseOrder,
    EnsureItem,
    EnsureSupplier,
    PostReceipt,
    ReverseReceipt,
    UpdatePurchaseOrder,
)
from ml_connector.sync.inputs import Mappings, Posted
from ml_connector.sync.plan import Plan

CENT = Decimal("0.01")
TAX = Decimal("0.10")

PRODUCTS: dict[str, str] = {
    "WID-100": "Widget 100mm",
    "BRK-20": "Bracket 20mm",
    "BOLT-8": "Hex bolt M8",
    "NUT-M8": "Nut M8",
    "GSK-4": "Gasket 4in",
    "PNL-300": "Panel 300",
    "SCR-12": "Screw 12g",
}
# Service and non-inventory products: ordered and invoiced, never received (NonInventory).
SERVICES: dict[str, tuple[str, str]] = {
    "CAL-SVC": ("Calibration service", "473"),
    "SHOP-SUP": ("Workshop supplies (non-stock)", "429"),
}
CATALOGUE = [*PRODUCTS, *SERVICES]
CHARGES = (("Freight", "425"), ("Import duty", "460"), ("Handling fee", "477"))
CURRENCY_RATES = {"USD": Decimal(1), "AUD": Decimal("0.6521"), "EUR": Decimal("1.0843")}
LOCATIONS = ("Main Warehouse", "Production Floor", "")
SUPPLIERS = (
    ("3f6c1a2e-8b4d-4c2a-9e51-7d0b2f9a6c11", "Harbour Fasteners Pty Ltd", "30 days"),
    ("9a0b7c3d-1e2f-4a5b-8c6d-7e8f9a0b1c2d", "Kiwi Panels Ltd", "2%10 Net30"),
    ("5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f", "Acme GmbH", "COD"),
)
ORDER_DAY = date(2026, 3, 2)

MAPPINGS = Mappings(
    account={
        "425": "6100",
        "429": "6290",
        "460": "6150",
        "473": "6730",
        "477": "6200",
        "630": "1400",
    },
    item={sku: f"Q{sku.replace('-', '')}" for sku in PRODUCTS},
    supplier={},
    location={"Main Warehouse": "10-100", "Production Floor": "10-200"},
    payment_term={"30 days": "N30", "2%10 Net30": "2-10-30", "COD": "COD"},
    tax_rule={"GST on Imports": "GST-IMP"},
    currency={code: code for code in CURRENCY_RATES},
    labels={"account": {"425": "Freight & Courier"}},
)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def guid(number: int, kind: int = 0) -> str:
    return f"{kind:08x}-0000-4000-8000-{number:012x}"


@dataclass
class LineSpec:
    sku: str
    quantity: Decimal
    price: Decimal
    discount: Decimal = Decimal(0)

    @property
    def service(self) -> bool:
        return self.sku in SERVICES


@dataclass
class DeliverySpec:
    day: date
    task: str | None
    lines: list[tuple[str, Decimal]]
    location: str = ""  # where Cin7 received it; "" means the purchase's location


@dataclass
class InvoiceSpec:
    number: str
    task: str | None
    day: date
    lines: list[LineSpec]
    charges: list[tuple[str, str, Decimal]] = field(default_factory=list)
    status: str = "AUTHORISED"


@dataclass
class CreditSpec:
    number: str
    task: str | None
    day: date
    lines: list[LineSpec]
    unstock: bool
    location: str = ""  # where the returned goods leave from


@dataclass
class PurchaseSpec:
    purchase_id: str
    order_number: str
    supplier: tuple[str, str, str]
    advanced: bool
    approach: str
    currency: str
    location: str
    lines: list[LineSpec]
    charges: list[tuple[str, str, Decimal]]
    deliveries: list[DeliverySpec]
    invoices: list[InvoiceSpec]
    credit: CreditSpec | None
    voided: bool
    covered: bool
    blind: bool = False
    service_purchase: bool = False

    @property
    def received(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for delivery in self.deliveries:
            for sku, quantity in delivery.lines:
                totals[sku] = totals.get(sku, Decimal(0)) + quantity
        return totals


@dataclass(frozen=True)
class Stage:
    """How much of the purchase's life Cin7 shows: counts of deliveries and invoices."""

    deliveries: int
    invoices: int
    credit: bool = False
    voided: bool = False


def full_stage(spec: PurchaseSpec) -> Stage:
    return Stage(len(spec.deliveries), len(spec.invoices), spec.credit is not None, spec.voided)


def stages(spec: PurchaseSpec) -> list[Stage]:
    """Snapshots in an order Cin7 allows, ending with the whole life."""
    found = [Stage(0, 0)]
    receive = [Stage(d, 0) for d in range(1, len(spec.deliveries) + 1)]
    if spec.approach == "STOCK":
        found += receive
        found += [Stage(len(spec.deliveries), i) for i in range(1, len(spec.invoices) + 1)]
    else:
        found += [Stage(0, i) for i in range(1, len(spec.invoices) + 1)]
        found += [Stage(d, len(spec.invoices)) for d in range(1, len(spec.deliveries) + 1)]
    found.append(full_stage(spec))
    return list(dict.fromkeys(found))


# --- rendering -----------------------------------------------------------------------------


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def _line(line: LineSpec, *, account: str | None = None) -> dict[str, Any]:
    total = money(line.quantity * line.price * (100 - line.discount) / 100)
    name = SERVICES[line.sku][0] if line.service else PRODUCTS[line.sku]
    body: dict[str, Any] = {
        "ProductID": guid(CATALOGUE.index(line.sku) + 1, 7),
        "SKU": line.sku,
        "Name": name,
        "Quantity": float(line.quantity),
        "Price": float(line.price),
        "Discount": float(line.discount),
        "Tax": float(money(total * TAX)),
        "TaxRule": "GST on Imports",
        "Total": float(total),
    }
    if line.service:
        body["NonInventory"] = True
    if account is not None:
        body["Account"] = SERVICES[line.sku][1] if line.service else account
    return body


def _charge(description: str, account: str | None, price: Decimal) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Description": description,
        "Reference": "",
        "Quantity": 1,
        "Price": float(price),
        "Discount": 0,
        "Tax": float(money(price * TAX)),
        "TaxRule": "GST on Imports",
        "Total": float(price),
    }
    if account is not None:
        body["Account"] = account
    return body


def _totals(lines: list[dict[str, Any]], charges: list[dict[str, Any]]) -> dict[str, float]:
    before = sum((Decimal(str(x["Total"])) for x in lines + charges), Decimal(0))
    tax = sum((Decimal(str(x["Tax"])) for x in lines + charges), Decimal(0))
    return {"TotalBeforeTax": float(before), "Tax": float(tax), "Total": float(before + tax)}


def _stock(sku: str, quantity: Decimal, day: date, location: str) -> dict[str, Any]:
    return {
        "Date": _stamp(day),
        "Quantity": float(quantity),
        "ProductID": guid(list(PRODUCTS).index(sku) + 1, 7),
        "SKU": sku,
        "Name": PRODUCTS[sku],
        "Location": location or "Main Warehouse",
        "BatchSN": "",
    }


def render(spec: PurchaseSpec, stage: Stage) -> dict[str, Any]:
    """The Cin7 detail document (`/purchase` or `/advanced-purchase`) at `stage`."""
    order_lines = [_line(line) for line in spec.lines]
    order_charges = [_charge(d, None, p) for d, _, p in spec.charges]
    voided = stage.voided
    payload: dict[str, Any] = {
        "ID": spec.purchase_id,
        "SupplierID": spec.supplier[0],
        "Supplier": spec.supplier[1],
        "Type": "Service Purchase"
        if spec.service_purchase
        else ("Advanced Purchase" if spec.advanced else "Simple Purchase"),
        "IsServiceOnly": spec.service_purchase,
        "Approach": spec.approach,
        "BlindReceipt": spec.blind,
        "BaseCurrency": "USD",
        "SupplierCurrency": spec.currency,
        "CurrencyRate": float(CURRENCY_RATES[spec.currency]),
        "TaxRule": "GST on Imports",
        "TaxCalculation": "Exclusive",
        "Terms": spec.supplier[2],
        "Location": spec.location,
        "OrderNumber": spec.order_number,
        "OrderDate": _stamp(ORDER_DAY),
        "RequiredBy": _stamp(ORDER_DAY + timedelta(days=14)),
        "Status": "VOIDED" if voided else "ORDERED",
        "Order": {
            "Status": "VOIDED" if voided else "AUTHORISED",
            "Lines": order_lines,
            "AdditionalCharges": order_charges,
            **_totals(order_lines, order_charges),
        },
    }
    deliveries = spec.deliveries[: stage.deliveries]
    invoices = spec.invoices[: stage.invoices]
    if spec.advanced:
        tasks: dict[str, list[dict[str, Any]]] = {}
        for delivery in deliveries:
            block = tasks.setdefault(delivery.task or guid(0, 9), [])
            block += [
                _stock(sku, q, delivery.day, delivery.location or spec.location)
                for sku, q in delivery.lines
            ]
        payload["StockReceived"] = [
            {"TaskID": task, "Status": "DRAFT", "Lines": lines} for task, lines in tasks.items()
        ]
        payload["PutAway"] = [
            {"TaskID": task, "Status": "VOIDED" if voided else "AUTHORISED", "Lines": lines}
            for task, lines in tasks.items()
        ]
        payload["Invoice"] = [_invoice(inv, voided) for inv in invoices]
        payload["CreditNote"] = (
            [_credit(spec.credit, voided, spec.location)] if stage.credit and spec.credit else []
        )
    else:
        lines = [
            _stock(sku, q, delivery.day, delivery.location or spec.location)
            for delivery in deliveries
            for sku, q in delivery.lines
        ]
        payload["StockReceived"] = {
            "Status": ("VOIDED" if voided else "AUTHORISED") if lines else "NOT AVAILABLE",
            "Lines": lines,
        }
        payload["Invoice"] = (
            _invoice(invoices[0], voided)
            if invoices
            else {"Status": "NOT AVAILABLE", "InvoiceNumber": "", "Lines": []}
        )
        payload["CreditNote"] = (
            _credit(spec.credit, voided, spec.location)
            if stage.credit and spec.credit
            else {"Status": "NOT AVAILABLE", "Lines": [], "Unstock": {"Status": "NOT AVAILABLE"}}
        )
    return payload


def _invoice(invoice: InvoiceSpec, voided: bool) -> dict[str, Any]:
    lines = [_line(line, account="630") for line in invoice.lines]
    charges = [_charge(d, a, p) for d, a, p in invoice.charges]
    return {
        "TaskID": invoice.task,
        "InvoiceNumber": invoice.number,
        "InvoiceDate": _stamp(invoice.day),
        "InvoiceDueDate": _stamp(invoice.day + timedelta(days=30)),
        "Status": "VOIDED" if voided else invoice.status,
        "Lines": lines,
        "AdditionalCharges": charges,
        **_totals(lines, charges),
        "Paid": 0,
    }


def _credit(credit: CreditSpec, voided: bool, location: str) -> dict[str, Any]:
    lines = [_line(line, account="630") for line in credit.lines]
    unstock = [
        _stock(line.sku, line.quantity, credit.day, credit.location or location)
        for line in credit.lines
    ]
    block = {
        "Status": "VOIDED" if voided else ("AUTHORISED" if credit.unstock else "NOT AVAILABLE"),
        "Lines": unstock if credit.unstock else [],
    }
    return {
        "TaskID": credit.task,
        "CreditNoteNumber": credit.number,
        "CreditNoteDate": _stamp(credit.day),
        "Status": "VOIDED" if voided else "AUTHORISED",
        "Lines": lines,
        "AdditionalCharges": [],
        **_totals(lines, []),
        "Unstock": block if credit.task is None else [block],
    }


def supplier_payload(spec: PurchaseSpec) -> dict[str, Any]:
    supplier_id, name, term = spec.supplier
    return {
        "ID": supplier_id,
        "Name": name,
        "Currency": spec.currency,
        "PaymentTerm": term,
        "TaxRule": "GST on Imports",
        "Status": "Active",
        "Addresses": [
            {"Line1": "1 Quay St", "City": "Auckland", "Country": "New Zealand", "Type": "Business"}
        ],
        "Contacts": [{"Name": "Sam", "Email": "sam@example.com", "Default": True}],
    }


def purchase_at(spec: PurchaseSpec, stage: Stage) -> Purchase:
    return Purchase.from_cin7(render(spec, stage))


def supplier_of(spec: PurchaseSpec) -> Supplier:
    return Supplier.from_cin7(supplier_payload(spec))


def over_received(spec: PurchaseSpec, stage: Stage, tolerance: Decimal) -> bool:
    """Whether Cin7 shows more received at `stage` than the order plus `tolerance` percent."""
    ordered: dict[str, Decimal] = {}
    for line in spec.lines:
        ordered[line.sku] = ordered.get(line.sku, Decimal(0)) + line.quantity
    received: dict[str, Decimal] = {}
    for delivery in spec.deliveries[: stage.deliveries]:
        for sku, quantity in delivery.lines:
            received[sku] = received.get(sku, Decimal(0)) + quantity
    if stage.credit and spec.credit and spec.credit.unstock:
        for line in spec.credit.lines:
            received[line.sku] = received.get(line.sku, Decimal(0)) - line.quantity
    return any(
        quantity > ordered.get(sku, Decimal(0)) * (100 + tolerance) / 100
        for sku, quantity in received.items()
    )


def edited(spec: PurchaseSpec, *, add: str | None, bump: int) -> PurchaseSpec:
    """The same purchase after an edit: one more SKU ordered, or the first line's quantity up."""
    lines = [dataclasses.replace(line) for line in spec.lines]
    if add is not None:
        lines.append(LineSpec(add, Decimal(5), Decimal("3.20")))
    else:
        lines[0].quantity += bump
    return dataclasses.replace(spec, lines=lines)


def converted(spec: PurchaseSpec) -> PurchaseSpec:
    """A Simple purchase after Cin7 turned it into an Advanced one: every block in one task."""
    task = guid(99, 3)
    return dataclasses.replace(
        spec,
        advanced=True,
        deliveries=[dataclasses.replace(d, task=task) for d in spec.deliveries],
        invoices=[dataclasses.replace(i, task=task) for i in spec.invoices],
        credit=dataclasses.replace(spec.credit, task=task) if spec.credit else None,
    )


def with_more(spec: PurchaseSpec, delivery: int, more: int) -> PurchaseSpec:
    """A posted delivery edited in Cin7: its first line is `more` units larger."""
    deliveries = [dataclasses.replace(d, lines=list(d.lines)) for d in spec.deliveries]
    sku, quantity = deliveries[delivery].lines[0]
    deliveries[delivery].lines[0] = (sku, quantity + more)
    return dataclasses.replace(spec, deliveries=deliveries)


def without(spec: PurchaseSpec, delivery: int) -> PurchaseSpec:
    """A posted delivery undone in Cin7."""
    return dataclasses.replace(
        spec, deliveries=[d for i, d in enumerate(spec.deliveries) if i != delivery]
    )


# --- strategies ----------------------------------------------------------------------------

quantities = st.integers(min_value=1, max_value=60).map(Decimal)
prices = st.decimals(min_value=Decimal("0.25"), max_value=Decimal(250), places=2)
discounts = st.sampled_from([Decimal(0), Decimal(0), Decimal(5), Decimal("12.5")])


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """`total` split into `parts` non-negative integers."""
    cuts = sorted(draw(st.integers(0, total)) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def purchase_specs(
    draw: st.DrawFn,
    *,
    covered: bool | None = None,
    voids: bool = True,
    over: bool = True,
    services: bool = True,
) -> PurchaseSpec:
    """A purchase's life. `covered=True`: every invoiced quantity is received; `over=False`:
    never more received than ordered, and nothing received that was not ordered;
    `services=True`: sometimes a service line, sometimes a whole Service purchase."""
    if services and draw(st.integers(0, 7)) == 0:
        return draw(service_purchase_specs(voids=voids))
    advanced = draw(st.booleans())
    approach = draw(st.sampled_from(["STOCK", "INVOICE"]))
    number = draw(st.integers(1, 99_999))
    order_number = draw(st.sampled_from([f"PO-{number:05d}", f"PO-2026-{number:06d}"]))
    skus = draw(st.lists(st.sampled_from(list(PRODUCTS)), min_size=1, max_size=4, unique=True))
    lines = [LineSpec(sku, draw(quantities), draw(prices), draw(discounts)) for sku in skus]
    if services and draw(st.booleans()):
        service = draw(st.sampled_from(list(SERVICES)))
        lines.append(LineSpec(service, Decimal(draw(st.integers(1, 3))), draw(prices)))
    charge_rows = draw(st.lists(st.sampled_from(CHARGES), max_size=2, unique=True))
    charges = [(d, a, draw(prices)) for d, a in charge_rows]
    if covered is None:
        covered = draw(st.booleans())

    # What arrives: none, part, all or a little more of each line, sometimes an extra SKU.
    arriving: dict[str, int] = {}
    for line in lines:
        if line.service:
            continue
        shares = ["none", "part", "all", "all", "over"] if over else ["none", "part", "all"]
        share = draw(st.sampled_from(shares))
        ordered = int(line.quantity)
        arriving[line.sku] = {
            "none": 0,
            "part": draw(st.integers(0, ordered)),
            "all": ordered,
            "over": ordered + draw(st.integers(1, 3)),
        }[share]
    extra = [sku for sku in PRODUCTS if sku not in skus]
    if over and extra and draw(st.integers(0, 5)) == 0:
        arriving[draw(st.sampled_from(extra))] = draw(st.integers(1, 10))
    tasks = [guid(i + 1, 3) for i in range(draw(st.integers(1, 2)))] if advanced else [None]
    days = sorted({ORDER_DAY + timedelta(days=draw(st.integers(1, 20))) for _ in range(3)})
    slots = [(task, day) for task in tasks for day in days[: draw(st.integers(1, len(days)))]]
    per_slot: dict[tuple[str | None, date], list[tuple[str, Decimal]]] = {}
    for sku, quantity in arriving.items():
        for slot, part in zip(slots, _split(draw, quantity, len(slots)), strict=True):
            if part:
                per_slot.setdefault(slot, []).append((sku, Decimal(part)))
    deliveries = [
        DeliverySpec(day, task, per_slot[(task, day)], draw(st.sampled_from(LOCATIONS)))
        for task, day in per_slot
    ]
    deliveries.sort(key=lambda d: (d.day, d.task or ""))
    received = {sku: Decimal(q) for sku, q in arriving.items()}

    # What is invoiced: received quantities when covered, any ordered quantity otherwise.
    price_of = {line.sku: line for line in lines}
    invoice_count = draw(st.integers(0, 2 if advanced else 1))
    invoices: list[InvoiceSpec] = []
    left = {
        sku: int(received.get(sku, 0)) if covered and not line.service else int(line.quantity)
        for sku, line in price_of.items()
    }
    for index in range(invoice_count):
        chosen: list[LineSpec] = []
        for sku, remaining in left.items():
            if remaining <= 0:
                continue
            last = index == invoice_count - 1
            quantity = remaining if last else draw(st.integers(0, remaining))
            if quantity:
                base = price_of[sku]
                chosen.append(LineSpec(sku, Decimal(quantity), base.price, base.discount))
                left[sku] -= quantity
        if not chosen:
            continue
        charges_here = [(d, a, p) for d, a, p in charges] if index == 0 else []
        invoices.append(
            InvoiceSpec(
                number=draw(st.sampled_from([f"INV-{number}-{index + 1}", ""])),
                task=tasks[index % len(tasks)] if advanced else None,
                day=ORDER_DAY + timedelta(days=25 + index),
                lines=chosen,
                charges=charges_here,
                status=draw(st.sampled_from(["AUTHORISED", "PAID"])),
            )
        )

    # A credit note returning part of what was both invoiced and received.
    credit = None
    if invoices and draw(st.booleans()):
        invoiced = {line.sku: line for inv in invoices for line in inv.lines}
        returnable = [
            sku
            for sku, line in invoiced.items()
            if min(line.quantity, received.get(sku, Decimal(0))) > 0
        ]
        if returnable:
            sku = draw(st.sampled_from(returnable))
            most = int(min(invoiced[sku].quantity, received[sku]))
            back = Decimal(draw(st.integers(1, most)))
            credit = CreditSpec(
                number=draw(st.sampled_from([f"CN-{number}", ""])),
                task=tasks[0] if advanced else None,
                day=ORDER_DAY + timedelta(days=40),
                lines=[LineSpec(sku, back, invoiced[sku].price, invoiced[sku].discount)],
                unstock=draw(st.booleans()),
                location=next(d.location for d in deliveries if sku in dict(d.lines)),
            )
    return PurchaseSpec(
        purchase_id=guid(number, 1),
        order_number=order_number,
        supplier=draw(st.sampled_from(SUPPLIERS)),
        advanced=advanced,
        approach=approach,
        currency=draw(st.sampled_from(list(CURRENCY_RATES))),
        location=draw(st.sampled_from(LOCATIONS)),
        lines=lines,
        charges=charges,
        deliveries=deliveries,
        invoices=invoices,
        credit=credit,
        voided=voids and draw(st.integers(0, 9)) == 0,
        covered=covered,
    )


@st.composite
def service_purchase_specs(draw: st.DrawFn, *, voids: bool = True) -> PurchaseSpec:
    """A Cin7 Service purchase: additional charges only, invoice first, never received."""
    number = draw(st.integers(1, 99_999))
    rows = draw(st.lists(st.sampled_from(CHARGES), min_size=1, max_size=3, unique=True))
    charges = [(d, a, draw(prices)) for d, a in rows]
    split = draw(st.integers(1, len(charges)))
    task = guid(number, 5)
    invoices = [
        InvoiceSpec(
            number=draw(st.sampled_from([f"SVC-{number}-{i + 1}", ""])),
            task=task,
            day=ORDER_DAY + timedelta(days=5 + i),
            lines=[],
            charges=part,
            status=draw(st.sampled_from(["AUTHORISED", "PAID"])),
        )
        for i, part in enumerate([charges[:split], charges[split:]])
        if part
    ]
    return PurchaseSpec(
        purchase_id=guid(number, 4),
        order_number=f"PO-S{number:05d}",
        supplier=draw(st.sampled_from(SUPPLIERS)),
        advanced=True,
        approach="INVOICE",
        currency=draw(st.sampled_from(list(CURRENCY_RATES))),
        location="",
        lines=[],
        charges=charges,
        deliveries=[],
        invoices=invoices[: draw(st.integers(0, len(invoices)))],
        credit=None,
        voided=voids and draw(st.integers(0, 9)) == 0,
        covered=True,
        service_purchase=True,
    )


# --- executing a plan the way the engine records it ----------------------------------------


def qad_id_for(action: Action, serial: int) -> str:
    """What QAD would answer for this action: codes for masters, numbers for documents."""
    if isinstance(action, EnsureSupplier | EnsureItem):
        return action.code
    if isinstance(action, CreatePurchaseOrder | UpdatePurchaseOrder | ClosePurchaseOrder):
        return action.number
    if isinstance(action, PostReceipt | ReverseReceipt):
        return f"RC{serial:06d}"
    return str(1000 + serial)


def execute(plan: Plan, posted: Mapping[str, Posted]) -> dict[str, Posted]:
    """Apply every action as the engine records it, details round-tripped through JSON."""
    state = dict(posted)
    done: set[str] = set()
    for action in plan.actions:
        assert set(action.depends_on) <= done, f"{action.natural_key} runs before its dependencies"
        qad_id = qad_id_for(action, len(state))
        details = json.loads(json.dumps(action.posted_details(qad_id)))
        state[action.natural_key] = Posted(qad_id, details)
        done.add(action.natural_key)
    return state
