"""Seeded suppliers and purchases on top of the shared catalogue.

Everything is drawn from one `random.Random(seed)` and dated relative to `epoch_for(seed)`,
never today's date, so a seed always gives the same data. Purchases are built through the same
lifecycle rules the API enforces, so the seeded data obeys them too.

What the data covers (for `purchases` large enough; each scenario is also placed at least once
when there is room): drafts (ORDERING), ORDERED, partly and fully received, invoiced, COMPLETED
(some paid), VOIDED, CREDITED with a credit note and unstock; Simple and Advanced (~25%); STOCK
and INVOICE approach, with INVOICE-first purchases invoiced before receipt and some invoiced but
not yet received; several currencies; freight as an additional charge (account 425); split
deliveries; line discounts; a few lines on MTR-0.75KW (no QAD item), on the service CST-CAL-1
and the non-inventory SAF-KIT-1 (never received, booked to a GL account); Service purchases
(charges only, invoice first, about 3 %, from their own random stream); a few
purchases on "Production Floor"; and one past bulk touch (a group sharing one LastUpdatedDate).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.cin7 import lifecycle
from ml_connector.sandbox.cin7.formats import guid, q2
from ml_connector.sandbox.cin7.lifecycle import Env
from ml_connector.sandbox.cin7.model import (
    ADVANCED,
    AUTHORISED,
    DRAFT,
    SERVICE,
    SIMPLE,
    Address,
    Contact,
    Purchase,
    Supplier,
)
from ml_connector.sandbox.cin7.reference import Reference

SPECIAL_SKUS = ("MTR-0.75KW", "CST-CAL-1", "SAF-KIT-1")  # no QAD item: a motor, a service
# and a non-inventory product (the last two are never received and post to a GL account)
SERVICE_SHARE = 0.03  # of purchases that are Service purchases (charges only, invoice first)
_SERVICES = (
    ("Calibration visit", "429"),
    ("Equipment maintenance contract", "429"),
    ("Insurance premium", "433"),
    ("Software subscription", "485"),
)

_PLACES = [
    "Harbour",
    "Kestrel",
    "Summit",
    "Northwind",
    "Ironbridge",
    "Bluewater",
    "Granite",
    "Redwood",
    "Atlas",
    "Pioneer",
    "Cobalt",
    "Meridian",
    "Silverline",
    "Keystone",
    "Riverside",
    "Lakeshore",
    "Crestview",
    "Evergreen",
    "Falcon",
    "Orion",
    "Beacon",
    "Sterling",
    "Titan",
    "Anchor",
    "Prairie",
    "Maple",
    "Highland",
    "Coastal",
    "Union",
    "Liberty",
]
_TRADES: dict[str, tuple[str, ...]] = {
    "Fasteners": ("Fasteners",),
    "Metals": ("Raw Materials",),
    "Steel Supply": ("Raw Materials",),
    "Packaging": ("Packaging",),
    "Industrial Supply": ("Consumables", "Fasteners"),
    "Electrical": ("Electrical",),
    "Wire & Cable": ("Electrical", "Raw Materials"),
    "Components": ("Components",),
    "Bearings": ("Components",),
    "Hydraulics": ("Components",),
    "Coatings": ("Raw Materials", "Consumables"),
    "Tooling": ("Consumables", "Components"),
    "Safety Products": ("Consumables",),
    "Logistics Supplies": ("Packaging", "Consumables"),
}
_COUNTRIES: dict[str, list[tuple[str, str, str, str]]] = {
    # currency -> (country, city, state, postcode)
    "USD": [
        ("USA", "Chicago", "IL", "60607"),
        ("USA", "Houston", "TX", "77002"),
        ("USA", "Charlotte", "NC", "28202"),
        ("USA", "Cleveland", "OH", "44114"),
        ("USA", "Milwaukee", "WI", "53202"),
        ("USA", "Dayton", "OH", "45402"),
        ("USA", "Detroit", "MI", "48226"),
        ("USA", "Pittsburgh", "PA", "15222"),
    ],
    "EUR": [
        ("Germany", "Stuttgart", "BW", "70173"),
        ("Germany", "Dortmund", "NW", "44135"),
        ("Netherlands", "Rotterdam", "ZH", "3011 AA"),
        ("France", "Lyon", "ARA", "69002"),
    ],
    "GBP": [
        ("United Kingdom", "Birmingham", "West Midlands", "B1 1AA"),
        ("United Kingdom", "Sheffield", "South Yorkshire", "S1 2HE"),
    ],
    "CAD": [("Canada", "Mississauga", "ON", "L5B 3C3"), ("Canada", "Calgary", "AB", "T2P 1J9")],
    "AUD": [
        ("Australia", "Port Melbourne", "VIC", "3207"),
        ("Australia", "Brisbane", "QLD", "4000"),
    ],
}
_SUFFIX = {
    "USA": ("Inc.", "LLC", "Corp.", "Co."),
    "Germany": ("GmbH",),
    "Netherlands": ("B.V.",),
    "France": ("SARL",),
    "United Kingdom": ("Ltd",),
    "Canada": ("Ltd.", "Inc."),
    "Australia": ("Pty Ltd",),
}
_STREETS = [
    "Industrial Blvd",
    "Commerce Drive",
    "Wharf Road",
    "Harbor Way",
    "Mill Street",
    "Factory Lane",
    "Enterprise Avenue",
    "Depot Street",
    "Foundry Road",
    "Quarry Lane",
]
_FIRST = [
    "Priya",
    "James",
    "Maria",
    "Chen",
    "Olivia",
    "Lukas",
    "Aisha",
    "Tom",
    "Sofia",
    "Daniel",
    "Grace",
    "Mateo",
    "Hannah",
    "Noah",
    "Emma",
    "Kenji",
    "Fatima",
    "Liam",
    "Zoe",
    "Ravi",
]
_LAST = [
    "Natarajan",
    "Walker",
    "Schmidt",
    "Nguyen",
    "Brooks",
    "Keller",
    "Patel",
    "Murphy",
    "Rossi",
    "Okafor",
    "Jensen",
    "Silva",
    "Clarke",
    "Tanaka",
    "Moreau",
    "Hughes",
]
_NOTES = [
    "",
    "",
    "",
    "Deliver to dock 2",
    "Call before delivery",
    "Urgent: line stoppage risk",
    "Blanket order release",
    "Quote Q-2291 applies",
]

# scenario -> weight for (recent < 14 days, mid < 60 days, older)
_SCENARIOS: dict[str, tuple[int, int, int]] = {
    "ordering": (10, 2, 1),
    "ordered": (22, 6, 2),
    "stock_partial": (8, 6, 2),
    "stock_received": (10, 12, 5),
    "stock_completed": (6, 30, 55),
    "invoice_held": (14, 8, 3),
    "invoice_partial": (6, 4, 1),
    "invoice_completed": (4, 12, 14),
    "partially_invoiced": (3, 3, 2),
    "voided": (4, 6, 7),
    "credited": (0, 2, 4),
}
_INVOICE_FIRST = {"invoice_held", "invoice_partial", "invoice_completed"}


@dataclass
class Generated:
    suppliers: list[Supplier]
    purchases: list[Purchase]


def epoch_for(seed: int) -> datetime:
    """The sandbox's "now" at start-up for a seed: a fixed instant, never today's date."""
    return datetime(2026, 11, 20, 9, 0) - timedelta(days=seed % 29, minutes=(seed * 37) % 300)


def _when(rng: random.Random, on: date) -> datetime:
    """A working-hours instant on a day, at millisecond precision."""
    clock = time(rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(on, clock) + timedelta(milliseconds=rng.randint(0, 999))


def make_suppliers(
    rng: random.Random, ref: Reference, count: int, epoch: datetime
) -> list[Supplier]:
    names: set[str] = set()
    codes: set[str] = set()
    regular = [p.sku for p in ref.products if p.sku not in SPECIAL_SKUS]
    by_category: dict[str, list[str]] = {}
    for p in ref.products:
        if p.sku not in SPECIAL_SKUS:
            by_category.setdefault(p.product.category, []).append(p.sku)
    currencies = [c for c in ("USD", "EUR", "GBP", "CAD", "AUD") if c in ref.currencies]
    weights = [70, 10, 8, 7, 5][: len(currencies)]
    terms = [t.term.name for t in ref.terms]
    term_weights = [50, 15, 10, 15, 10][: len(terms)] + [5] * max(0, len(terms) - 5)
    out: list[Supplier] = []
    for index in range(count):
        currency = rng.choices(currencies, weights)[0]
        country, city, state, postcode = rng.choice(_COUNTRIES.get(currency, _COUNTRIES["USD"]))
        trade = rng.choice(list(_TRADES))
        name = ""
        while not name or name in names:
            name = f"{rng.choice(_PLACES)} {trade} {rng.choice(_SUFFIX[country])}"
            if name in names and len(names) > 300:
                name = f"{name} {index}"
        names.add(name)
        code = "".join(word[0] for word in name.split()[:2]).upper()
        base, n = code, 2
        while code in codes:
            code, n = f"{base}{n}", n + 1
        codes.add(code)
        pool = [sku for cat in _TRADES[trade] for sku in by_category.get(cat, [])] or regular
        skus = tuple(rng.sample(pool, min(len(pool), rng.randint(4, 10))))
        if currency == "USD":
            tax_rule = "Purchase Tax 8.25%" if rng.random() < 0.7 else "Tax Exempt"
        else:
            tax_rule = "Imports 5%" if rng.random() < 0.8 else "Tax Exempt"
        street = f"{rng.randint(2, 4800)} {rng.choice(_STREETS)}"
        addresses: list[Address] = []
        if rng.random() > 0.1:
            addresses.append(
                Address(
                    guid(rng),
                    street,
                    rng.choice(["", "", "Unit 3", "Suite 200"]),
                    city,
                    state,
                    postcode,
                    country,
                    "Business",
                )
            )
            if rng.random() < 0.7:
                addresses.append(
                    Address(
                        guid(rng),
                        f"PO Box {rng.randint(100, 9999)}",
                        "",
                        city,
                        state,
                        postcode,
                        country,
                        "Billing",
                    )
                )
        domain = "".join(ch for ch in name.split()[0].lower() if ch.isalpha())
        contacts: list[Contact] = []
        if rng.random() > 0.1:
            for n_contact in range(rng.choice([1, 1, 1, 2, 2, 3])):
                person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
                contacts.append(
                    Contact(
                        id=guid(rng),
                        name=person,
                        phone=f"+1 {rng.randint(200, 989)} 555 {rng.randint(1000, 9999)}",
                        mobile=""
                        if rng.random() < 0.5
                        else f"+1 {rng.randint(200, 989)} 555 0{rng.randint(100, 199)}",
                        email=f"{person.split()[0].lower()}@{domain}.example",
                        default=n_contact == 0,
                    )
                )
        attribute_set = "Supplier Type" if rng.random() < 0.5 else None
        attributes: list[str | None] = [None] * 10
        if attribute_set:
            attributes[0] = rng.choice(["Product Supplier", "Product Supplier", "Service Supplier"])
        out.append(
            Supplier(
                id=guid(rng),
                name=name,
                currency=currency,
                payment_term=rng.choices(terms, term_weights)[0],
                tax_rule=tax_rule,
                modified=epoch
                - timedelta(days=rng.randint(5, 700), seconds=rng.randint(0, 86399))
                + timedelta(milliseconds=rng.randint(0, 999)),
                status="Deprecated" if index % 13 == 12 else "Active",
                discount=Decimal(rng.choice(["0", "0", "0", "0", "0", "0", "2.5", "5"])),
                comments=rng.choice([None, None, "", "Preferred supplier", "Min order $250"]),
                tax_number="" if rng.random() < 0.6 else f"{code}{rng.randint(10**8, 10**9 - 1)}",
                attribute_set=attribute_set,
                attributes=attributes,
                addresses=addresses,
                contacts=contacts,
                skus=skus,
                code=code,
            )
        )
    return out


class _Builder:
    """Builds one purchase after another through the lifecycle rules."""

    def __init__(
        self, rng: random.Random, ref: Reference, suppliers: list[Supplier], epoch: datetime
    ):
        self.rng = rng
        self.ref = ref
        self.suppliers = suppliers
        self.active = [s for s in suppliers if s.status == "Active"] or suppliers
        self.epoch = epoch
        self.today = epoch.date()
        self._now = epoch
        self.env = Env(ref, lambda: guid(rng), lambda: self._now)
        self.invoice_counter = {s.id: rng.randint(1000, 60000) for s in suppliers}
        self.invoice_style = {s.id: rng.randrange(4) for s in suppliers}
        self.credit_counter = 0

    def at(self, on: date) -> date:
        on = min(on, self.today)
        self._now = _when(self.rng, on)
        return on

    def invoice_number(self, s: Supplier) -> str:
        self.invoice_counter[s.id] += self.rng.randint(1, 40)
        n = self.invoice_counter[s.id]
        style = self.invoice_style[s.id]
        return [f"{s.code}-INV-{n}", f"INV{n:06d}", str(n), f"{s.code}{n}"][style]

    def lines(self, s: Supplier, rate: Decimal) -> list[dict[str, Any]]:
        rng = self.rng
        count = min(len(s.skus), rng.choices([1, 2, 3, 4, 5, 6, 8], [14, 22, 22, 16, 12, 8, 6])[0])
        skus = list(rng.sample(s.skus, count))
        roll = rng.random()
        if roll < 0.03:
            skus.append("MTR-0.75KW")
        elif roll < 0.05:
            skus.append("CST-CAL-1")
        elif roll < 0.065:
            skus.append("SAF-KIT-1")
        out = []
        for sku in skus:
            prod = self.ref.product(sku)
            assert prod is not None
            uom = prod.product.uom
            if uom == "Item":
                qty = Decimal(rng.choice([5, 10, 12, 20, 24, 25, 40, 50, 60, 100, 120, 200]))
            elif uom == "Metre":
                qty = Decimal(rng.choice(["15", "25", "30", "50", "75.5"]))
            else:
                qty = Decimal(rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 20]))
            if sku in SPECIAL_SKUS:
                qty = Decimal(rng.choice([1, 1, 2]))
            price = q2(prod.product.cost / rate * Decimal(str(round(rng.uniform(0.92, 1.08), 3))))
            line: dict[str, Any] = {"SKU": sku, "Quantity": str(qty), "Price": str(price)}
            if rng.random() < 0.15:
                line["Discount"] = rng.choice(["2.5", "5", "10"])
            if rng.random() < 0.6:
                line["SupplierSKU"] = f"{s.code}-{sku.replace('-', '')}"
            out.append(line)
        return out

    def build(self, seq: int, order_day: date, scenario: str, advanced: bool) -> Purchase:
        rng = self.rng
        s = rng.choice(self.active) if rng.random() < 0.93 else rng.choice(self.suppliers)
        contact = s.default_contact()
        roll = rng.random()
        location = (
            "Production Floor"
            if roll < 0.05
            else "East Coast DC"
            if roll < 0.25
            else "Main Warehouse"
        )
        approach = "INVOICE" if scenario in _INVOICE_FIRST else "STOCK"
        if scenario in ("ordering", "ordered", "voided") and rng.random() < 0.3:
            approach = "INVOICE"
        rate = self.ref.rate(s.currency)
        p = Purchase(
            id=guid(rng),
            seq=seq,
            type=ADVANCED if advanced else SIMPLE,
            approach=approach,
            supplier_id=s.id,
            supplier_name=s.name,
            contact=contact.name if contact else "",
            phone=contact.phone if contact else "",
            billing=s.address("Billing"),
            currency=s.currency,
            currency_rate=rate,
            tax_rule=s.tax_rule,
            terms=s.payment_term,
            location=location,
            order_date=order_day,
            updated=self.epoch,
            required_by=order_day + timedelta(days=rng.randint(7, 30))
            if rng.random() < 0.8
            else None,
            note=rng.choice(_NOTES),
            base_currency=self.ref.base_currency,
        )
        last = self.at(order_day)
        if scenario == "ordering" and rng.random() < 0.4:
            return self._stamp(p, last)  # header only: Order NOT AVAILABLE
        charges = []
        if rng.random() < 0.35:
            freight = rng.choice(["35.5", "45", "60", "85", "120", "150", "220"])
            charges = [
                {
                    "Description": "Freight",
                    "Reference": f"Con note {rng.randint(10000, 99999)}",
                    "Price": freight,
                }
            ]
        status = DRAFT if scenario == "ordering" else AUTHORISED
        lifecycle.post_order(
            p, self.env, status=status, memo=None, lines=self.lines(s, rate), charges=charges
        )
        if scenario in ("ordering", "ordered"):
            return self._stamp(p, last)
        if scenario == "voided":
            lifecycle.void(p)
            return self._stamp(p, self.at(last + timedelta(days=rng.randint(0, 12))))
        step = last
        if approach == "INVOICE":
            step = self.at(step + timedelta(days=rng.randint(1, 6)))
            lifecycle.invoice(p, self.env, number=self.invoice_number(s), lines=None, on=step)
            if scenario == "invoice_held":
                return self._stamp(p, step)
            step = self._receive(p, step, partial=scenario == "invoice_partial")
        else:
            split_invoice = scenario == "partially_invoiced"
            step = self._receive(p, step, partial=scenario == "stock_partial", split=split_invoice)
            if scenario in ("stock_partial", "stock_received"):
                return self._stamp(p, step)
            step = self.at(step + timedelta(days=rng.randint(0, 10)))
            if split_invoice and p.advanced:
                first = p.groups[0].putaway_lines
                lines = [{"SKU": x.sku, "Quantity": str(x.quantity)} for x in first]
                lifecycle.invoice(p, self.env, number=self.invoice_number(s), lines=lines, on=step)
                return self._stamp(p, step)
            lifecycle.invoice(p, self.env, number=self.invoice_number(s), lines=None, on=step)
        if (self.today - step).days > 20 and rng.random() < 0.6:
            step = self.at(step + timedelta(days=rng.randint(10, 20)))
            partial = rng.random() < 0.08
            amount = None
            if partial:
                amount = q2(p.invoices()[0].total / 2)
            lifecycle.pay(p, self.env, amount, step)
        if scenario == "credited":
            step = self.at(step + timedelta(days=rng.randint(2, 15)))
            self.credit_counter += 1
            first_line = p.invoices()[0].lines[0]
            qty = max(Decimal(1), (first_line.quantity / 4).to_integral_value())
            lifecycle.credit(
                p,
                self.env,
                number=f"CR-{self.credit_counter:05d}",
                supplier_ref=f"RMA-{rng.randint(1000, 9999)}",
                lines=[{"SKU": first_line.sku, "Quantity": str(min(qty, first_line.quantity))}],
                on=step,
            )
        return self._stamp(p, step)

    def build_service(self, seq: int, order_day: date, scenario: str) -> Purchase:
        """A Service purchase: charges on service accounts, invoiced first, never received."""
        rng = self.rng
        s = rng.choice(self.active)
        contact = s.default_contact()
        p = Purchase(
            id=guid(rng),
            seq=seq,
            type=SERVICE,
            approach="INVOICE",
            supplier_id=s.id,
            supplier_name=s.name,
            contact=contact.name if contact else "",
            phone=contact.phone if contact else "",
            billing=s.address("Billing"),
            currency=s.currency,
            currency_rate=self.ref.rate(s.currency),
            tax_rule=s.tax_rule,
            terms=s.payment_term,
            location=self.ref.default_location.name,
            order_date=order_day,
            updated=self.epoch,
            base_currency=self.ref.base_currency,
        )
        last = self.at(order_day)
        charges = [
            {
                "Description": name,
                "Price": str(rng.choice([95, 180, 240, 480, 1250])),
                "Account": acc,
            }
            for name, acc in rng.sample(_SERVICES, rng.choice([1, 1, 2]))
        ]
        status = DRAFT if scenario == "ordering" else AUTHORISED
        lifecycle.post_order(p, self.env, status=status, memo=None, lines=[], charges=charges)
        if scenario in ("ordering", "ordered"):
            return self._stamp(p, last)
        if scenario == "voided":
            lifecycle.void(p)
            return self._stamp(p, last)
        step = self.at(last + timedelta(days=rng.randint(1, 10)))
        lifecycle.invoice(p, self.env, number=self.invoice_number(s), lines=None, on=step)
        if (self.today - step).days > 20 and rng.random() < 0.6:
            step = self.at(step + timedelta(days=rng.randint(10, 20)))
            lifecycle.pay(p, self.env, None, step)
        return self._stamp(p, step)

    def _receive(self, p: Purchase, step: date, *, partial: bool, split: bool = False) -> date:
        rng = self.rng
        step = self.at(step + timedelta(days=rng.randint(2, 18)))
        todo = lifecycle.open_to_receive(p)
        parts = 2 if (partial or split or rng.random() < 0.3) and len(todo) >= 1 else 1
        first: list[dict[str, Any]] = []
        rest: list[dict[str, Any]] = []
        for index, (sku, qty) in enumerate(todo.items()):
            if parts == 2 and qty >= 2:
                head = (qty / 2).to_integral_value()
                first.append({"SKU": sku, "Quantity": str(head)})
                rest.append({"SKU": sku, "Quantity": str(qty - head)})
            elif parts == 2 and index % 2:
                rest.append({"SKU": sku, "Quantity": str(qty)})
            else:
                first.append({"SKU": sku, "Quantity": str(qty)})
        if not first:
            first, rest = rest, []
        later = min(step + timedelta(days=rng.randint(1, 9)), self.today)
        if later == step and not partial:
            first, rest = [{"SKU": sku, "Quantity": str(q)} for sku, q in todo.items()], []
        if parts == 1 or not rest:
            lifecycle.receive(p, self.env, first, step)
            return step
        if partial:
            # Simple: the block stays DRAFT (RECEIVING); Advanced: one authorised put-away.
            lifecycle.receive(p, self.env, first, step, authorise=False)
            return step
        lifecycle.receive(p, self.env, first, step, authorise=p.advanced)
        step = self.at(later)
        lifecycle.receive(p, self.env, rest, step)
        return step

    def _stamp(self, p: Purchase, last: date) -> Purchase:
        rng = self.rng
        for g in p.groups:  # live Advanced SR blocks are often left DRAFT, sometimes not
            if p.advanced and g.sr_status == DRAFT and rng.random() < 0.4:
                g.sr_status = AUTHORISED
        moment = _when(rng, min(last + timedelta(days=rng.choice([0, 0, 0, 1])), self.today))
        p.updated = min(moment, self.epoch - timedelta(minutes=5, milliseconds=rng.randint(0, 999)))
        return p


def _scenarios(rng: random.Random, ages: Sequence[int]) -> list[str]:
    names = list(_SCENARIOS)
    out = []
    for age in ages:
        column = 0 if age < 14 else 1 if age < 60 else 2
        out.append(rng.choices(names, [w[column] for w in _SCENARIOS.values()])[0])
    if len(ages) >= 2 * len(names):
        spots = rng.sample(range(len(ages)), len(names))
        for spot, name in zip(spots, names, strict=True):
            out[spot] = name
    return out


def make_purchases(
    rng: random.Random, ref: Reference, suppliers: list[Supplier], count: int, epoch: datetime
) -> list[Purchase]:
    if count <= 0 or not suppliers:
        return []
    today = epoch.date()
    span = 365
    days = sorted(
        max(0, min(span, int(span * (1 - (i + 0.5) / count)) + rng.randint(-1, 1)))
        for i in range(count)
    )
    order_days = [today - timedelta(days=d) for d in sorted(days, reverse=True)]
    ages = [(today - d).days for d in order_days]
    scenarios = _scenarios(rng, ages)
    builder = _Builder(rng, ref, suppliers, epoch)
    # Service purchases draw from their own stream, so every other purchase stays as the seed
    # always made it; the one they replace is still built, to keep the main stream in step.
    services = random.Random(f"service purchases {suppliers[0].id}")
    service_builder = _Builder(services, ref, suppliers, epoch)
    service_spot = services.randrange(count) if count >= 40 else -1
    out = []
    for seq, (day_, scenario) in enumerate(zip(order_days, scenarios, strict=True), start=1):
        advanced = rng.random() < 0.25
        if scenario == "partially_invoiced":
            advanced = True
        built = builder.build(seq, day_, scenario, advanced)
        if services.random() < SERVICE_SHARE or seq - 1 == service_spot:
            kind = scenario if scenario in ("ordering", "ordered", "voided") else "invoiced"
            built = service_builder.build_service(seq, day_, kind)
        out.append(built)
    _bulk_touch(rng, out, epoch)
    return out


def _bulk_touch(rng: random.Random, purchases: list[Purchase], epoch: datetime) -> None:
    """A past maintenance run that stamped a batch of old purchases identically (§8 item 1)."""
    if len(purchases) < 20:
        return
    moment = datetime.combine(epoch.date() - timedelta(days=3), time(2, 0)) + timedelta(
        milliseconds=rng.randint(1, 999)
    )
    older = [p for p in purchases if p.updated < moment]
    for p in rng.sample(older, min(len(older), max(3, len(purchases) // 50))):
        p.updated = moment


def generate(
    seed: int, ref: Reference, suppliers: int, purchases: int, epoch: datetime
) -> Generated:
    rng = random.Random(seed)
    made = make_suppliers(rng, ref, max(1, suppliers), epoch)
    return Generated(made, make_purchases(rng, ref, made, purchases, epoch))
