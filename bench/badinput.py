"""Benchmark: malformed and inconsistent Cin7 documents beside good purchases, the real command.

    .venv/bin/python bench/badinput.py                 # every kind, 30 + 10 good purchases
    .venv/bin/python bench/badinput.py --good 6        # the CI size

Both sandboxes run in their own processes on 127.0.0.1. Each *kind* below breaks one distinct
field or rule of a Cin7 purchase (a list row's date, a negative receipt quantity, a detail whose
ID is not the one asked for, ...); each is planted, through the Cin7 sandbox's tamper control,
on its own otherwise complete purchase (ordered, received, invoiced), among good purchases.
Then `ml-connector sync` runs as a user runs it, in a child process:

1. a first pass over everything;
2. more good purchases are created (after the bad ones, so a stuck cursor would miss them) and
   a second pass runs, then a third with nothing new;
3. Cin7 "corrects" every bad document (untamper) and a last pass runs.

Last stdout line, one JSON object:

- `kinds`: kinds planted; `quarantined`: of them, those whose record is `failed` with a reason
  after the first passes (`ml-connector records --status failed --json`);
- `posted_wrongly`: bad purchases with any document in QAD before the correction, plus QAD POs
  that belong to no Cin7 purchase (from the QAD sandbox's state);
- `stalled_passes`: passes that did not finish (exit code other than 0 or 1);
- `good_posted` / `good_total`: good purchases wholly in QAD (PO, receipts equal to Cin7's
  received quantities, every invoice) by the sandboxes' books;
- `healed` / `heal_total`: bad purchases wholly in QAD once Cin7 corrected them;
- `not_quarantined`: the kinds that were not, by name.

Required: `posted_wrongly` 0, `stalled_passes` 0, `good_posted` = `good_total`.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _harness import Cin7Control, Home, connect, log, records, sandboxes, sync
from ml_connector.sandbox.truth import Books, documents_of, landed, read_books

Ops = list[dict[str, Any]]
SKUS = ("WID-100", "WID-150", "BRK-20", "BRK-40", "NUT-M8", "NUT-M10", "WSH-M8", "BOX-M")
OTHER_GUID = "0f0e0d0c-0b0a-4908-8706-050403020100"


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> dict[str, Any]:
    return {"op": "remove", "path": path}


@dataclass(frozen=True)
class Kind:
    """One field or rule a Cin7 document breaks; `detail`/`row` are tamper ops (or a function
    of the true detail that returns them), `error` a planted Cin7 error on the detail call."""

    name: str
    rule: str
    shape: str = "simple"  # simple | freight | advanced | credit
    row: Ops = field(default_factory=list)
    detail: Ops | Callable[[dict[str, Any], dict[str, Any]], Ops] = field(default_factory=list)
    error: dict[str, Any] | None = None
    keyed_by: str | None = None  # the record's Cin7 ID when the row plants another


def _duplicate_line(doc: dict[str, Any], ctx: dict[str, Any]) -> Ops:
    return [
        {"op": "add", "path": "/Order/Lines/-", "value": copy.deepcopy(doc["Order"]["Lines"][0])}
    ]


def _other_supplier(doc: dict[str, Any], ctx: dict[str, Any]) -> Ops:
    return [replace("/SupplierID", ctx["other_supplier"])]


L0 = "/Order/Lines/0"
R0 = "/StockReceived/Lines/0"
I0 = "/Invoice/Lines/0"

KINDS: tuple[Kind, ...] = (
    # --- the list row ------------------------------------------------------------------------
    Kind(
        "row-order-date",
        "list row OrderDate is not a date",
        row=[replace("/OrderDate", "19/12/2025")],
    ),
    Kind(
        "row-last-updated",
        "list row LastUpdatedDate is not a date",
        row=[replace("/LastUpdatedDate", "yesterday")],
    ),
    Kind(
        "row-order-number-length",
        "list row OrderNumber over 128 characters",
        row=[replace("/OrderNumber", "PO-" + "7" * 200)],
    ),
    Kind(
        "row-id",
        "list row ID is not a GUID",
        row=[replace("/ID", "po-legacy-0001")],
        keyed_by="po-legacy-0001",
    ),
    Kind(
        "row-supplier-id",
        "list row SupplierID is not a GUID",
        row=[replace("/SupplierID", "S" * 90)],
    ),
    Kind(
        "row-type",
        "list row Type is not a purchase type",
        row=[replace("/Type", "Mystery Purchase")],
    ),
    Kind(
        "detail-refused",
        "Cin7 refuses the detail call",
        error={"status": 400, "message": "Purchase with specified ID not found"},
    ),
    Kind(
        "detail-shape",
        "the detail is not a JSON object",
        detail=[replace("", ["not", "a", "purchase"])],
    ),
    # --- the detail header -------------------------------------------------------------------
    Kind(
        "detail-id",
        "the detail's ID differs from its list row",
        detail=[replace("/ID", OTHER_GUID)],
    ),
    Kind(
        "detail-order-number",
        "the detail's OrderNumber differs from its list row",
        detail=[replace("/OrderNumber", "PO-99999")],
    ),
    Kind(
        "detail-supplier",
        "the detail's SupplierID differs from its list row",
        detail=_other_supplier,
    ),
    Kind(
        "approach",
        "Approach is neither INVOICE nor STOCK",
        detail=[replace("/Approach", "DROPSHIP")],
    ),
    Kind("order-date", "OrderDate is not a date", detail=[replace("/OrderDate", "31/02/2026")]),
    Kind(
        "last-updated",
        "LastUpdatedDate is not a date",
        detail=[replace("/LastUpdatedDate", "tomorrow")],
    ),
    Kind("supplier-missing", "the purchase names no supplier", detail=[remove("/SupplierID")]),
    Kind(
        "currency",
        "SupplierCurrency is not a currency",
        detail=[replace("/SupplierCurrency", "XYZ")],
    ),
    Kind(
        "currency-rate-negative",
        "CurrencyRate is negative",
        detail=[replace("/CurrencyRate", -1.2)],
    ),
    Kind(
        "currency-rate-text",
        "CurrencyRate is not a number",
        detail=[replace("/CurrencyRate", "one point two")],
    ),
    Kind(
        "tax-calculation",
        "TaxCalculation is neither Inclusive nor Exclusive",
        detail=[replace("/TaxCalculation", "Sometimes")],
    ),
    Kind(
        "order-status",
        "Order Status is not a Cin7 status",
        detail=[replace("/Order/Status", "APPROVED")],
    ),
    Kind(
        "order-lines-shape", "Order Lines is not a list", detail=[replace("/Order/Lines", "none")]
    ),
    # --- order lines ---------------------------------------------------------------------------
    Kind(
        "order-quantity-negative",
        "an order quantity is negative",
        detail=[replace(f"{L0}/Quantity", -10)],
    ),
    Kind("order-quantity-zero", "an order quantity is 0", detail=[replace(f"{L0}/Quantity", 0)]),
    Kind(
        "order-quantity-text",
        "an order quantity is not a number",
        detail=[replace(f"{L0}/Quantity", "ten")],
    ),
    Kind(
        "order-quantity-boolean",
        "an order quantity is true/false",
        detail=[replace(f"{L0}/Quantity", True)],
    ),
    Kind(
        "order-quantity-decimals",
        "an order quantity has more decimals than Cin7 allows",
        detail=[replace(f"{L0}/Quantity", 10.00001)],
    ),
    Kind(
        "order-price-negative", "an order price is negative", detail=[replace(f"{L0}/Price", -12.5)]
    ),
    Kind("order-price-missing", "an order price is missing", detail=[replace(f"{L0}/Price", None)]),
    Kind(
        "order-discount", "an order discount is over 100%", detail=[replace(f"{L0}/Discount", 150)]
    ),
    Kind(
        "order-line-total",
        "an order line total is not quantity x price",
        detail=[replace(f"{L0}/Total", 999999)],
    ),
    Kind(
        "order-sku-missing",
        "an order line has no SKU",
        detail=[replace(f"{L0}/SKU", ""), replace(f"{L0}/ProductID", None)],
    ),
    Kind("order-sku-twice", "one SKU on two order lines", detail=_duplicate_line),
    Kind(
        "order-total",
        "the order total is not the sum of its lines",
        detail=[replace("/Order/TotalBeforeTax", 1)],
    ),
    Kind("order-empty", "the authorised order has no lines", detail=[replace("/Order/Lines", [])]),
    # --- receipts ------------------------------------------------------------------------------
    Kind(
        "receipt-quantity-negative",
        "a received quantity is negative",
        detail=[replace(f"{R0}/Quantity", -10)],
    ),
    Kind(
        "receipt-quantity-decimals",
        "a received quantity has more decimals than Cin7 allows",
        detail=[replace(f"{R0}/Quantity", 10.00001)],
    ),
    Kind(
        "receipt-date",
        "a receipt line's Date is not a date",
        detail=[replace(f"{R0}/Date", "12/31/2026")],
    ),
    Kind("receipt-sku-missing", "a receipt line has no SKU", detail=[replace(f"{R0}/SKU", "")]),
    Kind(
        "receipt-status",
        "StockReceived Status is not a Cin7 status",
        detail=[replace("/StockReceived/Status", "DONE")],
    ),
    Kind(
        "receipt-shape",
        "StockReceived is neither an object nor a list",
        detail=[replace("/StockReceived", "yes")],
    ),
    # --- invoices ------------------------------------------------------------------------------
    Kind(
        "invoice-price-negative",
        "an invoice price is negative",
        detail=[replace(f"{I0}/Price", -12.5)],
    ),
    Kind(
        "invoice-quantity-negative",
        "an invoice quantity is negative",
        detail=[replace(f"{I0}/Quantity", -10)],
    ),
    Kind(
        "invoice-quantity-decimals",
        "an invoice quantity has more decimals than Cin7 allows",
        detail=[replace(f"{I0}/Quantity", 10.00001)],
    ),
    Kind(
        "invoice-date-missing",
        "the invoice has no InvoiceDate",
        detail=[replace("/Invoice/InvoiceDate", None)],
    ),
    Kind(
        "invoice-date",
        "InvoiceDate is not a date",
        detail=[replace("/Invoice/InvoiceDate", "2026-13-45")],
    ),
    Kind(
        "invoice-total",
        "the invoice total is not before-tax plus tax",
        detail=[replace("/Invoice/Total", 1)],
    ),
    Kind(
        "invoice-status",
        "Invoice Status is not a Cin7 status",
        detail=[replace("/Invoice/Status", "APPROVED")],
    ),
    Kind(
        "invoice-currency-rate",
        "the invoice CurrencyRate is negative",
        detail=[replace("/Invoice/CurrencyRate", -1)],
    ),
    Kind(
        "invoice-line-unposted",
        "an invoice line has neither SKU nor account",
        detail=[
            replace(f"{I0}/SKU", ""),
            replace(f"{I0}/ProductID", None),
            replace(f"{I0}/Account", ""),
        ],
    ),
    # --- additional charges --------------------------------------------------------------------
    Kind(
        "charge-price-negative",
        "an additional charge price is negative",
        "freight",
        detail=[replace("/Order/AdditionalCharges/0/Price", -25)],
    ),
    Kind(
        "charge-quantity-zero",
        "an additional charge quantity is 0",
        "freight",
        detail=[replace("/Order/AdditionalCharges/0/Quantity", 0)],
    ),
    Kind(
        "invoice-charge-account",
        "an invoiced charge has no account",
        "freight",
        detail=[replace("/Invoice/AdditionalCharges/0/Account", "")],
    ),
    # --- advanced purchases and credit notes ---------------------------------------------------
    Kind(
        "putaway-quantity-negative",
        "a put-away quantity is negative",
        "advanced",
        detail=[replace("/PutAway/0/Lines/0/Quantity", -10)],
    ),
    Kind(
        "putaway-date",
        "a put-away line's Date is not a date",
        "advanced",
        detail=[replace("/PutAway/0/Lines/0/Date", "soon")],
    ),
    Kind(
        "credit-quantity-negative",
        "a credit note quantity is negative",
        "credit",
        detail=[replace("/CreditNote/Lines/0/Quantity", -2)],
    ),
    Kind(
        "unstock-not-received",
        "a return of goods never received",
        "credit",
        detail=[replace("/CreditNote/Unstock/Lines/0/SKU", "BOX-L")],
    ),
)


class Scenario:
    """Builds good and bad purchases in the Cin7 sandbox through its control endpoints."""

    def __init__(self, cin7: Cin7Control, rng: random.Random) -> None:
        self.cin7 = cin7
        self.rng = rng
        usable = [s for s in cin7.suppliers() if s.get("Status", "Active") == "Active"]
        self.suppliers = [s["ID"] for s in usable if s.get("Currency") == "USD"] or [
            s["ID"] for s in usable
        ]

    def purchase(self, shape: str, *, invoice_first: bool = False) -> dict[str, Any]:
        """A complete purchase of this shape: ordered, received, invoiced (and credited)."""
        skus = self.rng.sample(SKUS, 2)
        body: dict[str, Any] = {
            "approach": "INVOICE" if invoice_first else "STOCK",
            "supplier_id": self.rng.choice(self.suppliers),
            "advanced": shape == "advanced",
            "lines": [{"sku": sku, "quantity": self.rng.choice([4, 10, 24])} for sku in skus],
        }
        if shape == "freight":
            body["freight"] = "25"
        doc = self.cin7.post("purchases", body)
        pid = doc["ID"]
        if invoice_first:
            self.cin7.post(f"purchases/{pid}/invoice")
            self.cin7.post(f"purchases/{pid}/receive")
        else:
            self.cin7.post(f"purchases/{pid}/receive")
            self.cin7.post(f"purchases/{pid}/invoice")
        if shape == "credit":
            line = doc["Order"]["Lines"][0]
            self.cin7.post(
                f"purchases/{pid}/credit", {"lines": [{"sku": line["SKU"], "quantity": 1}]}
            )
        detail: dict[str, Any] = self.cin7.get(f"purchases/{pid}")
        return detail

    def good(self, count: int) -> list[str]:
        shapes = ("simple", "simple", "freight", "advanced")
        made = []
        for n in range(count):
            doc = self.purchase(shapes[n % len(shapes)], invoice_first=n % 3 == 1)
            made.append(doc["ID"])
        return made

    def bad(self, kind: Kind) -> dict[str, Any]:
        doc = self.purchase(kind.shape)
        ctx = {"other_supplier": next(s for s in self.suppliers if s != doc["SupplierID"])}
        detail = kind.detail(doc, ctx) if callable(kind.detail) else kind.detail
        body: dict[str, Any] = {}
        if kind.row:
            body["row"] = kind.row
        if detail:
            body["detail"] = detail
        if kind.error:
            body["detail_error"] = kind.error
        self.cin7.post(f"purchases/{doc['ID']}/tamper", body)
        return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--good", type=int, default=30, help="good purchases before the bad ones")
    parser.add_argument("--later", type=int, default=None, help="good purchases after (good/3)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (fresh database)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    later = args.later if args.later is not None else max(2, args.good // 3)
    started = time.monotonic()
    home = Home(args.database_url)
    try:
        with sandboxes(suppliers=12, seed=args.seed) as (cin7_box, qad_box):
            log("sandboxes up")
            connect(home, cin7_box, qad_box)
            log("connection added, mappings applied")
            cin7 = Cin7Control(cin7_box)
            scenario = Scenario(cin7, random.Random(args.seed))
            log(f"{args.good} good purchases, then {len(KINDS)} bad kinds")
            good = scenario.good(args.good)
            bad = {kind.name: scenario.bad(kind) for kind in KINDS}
            log("scenario planted")
            passes = [sync(home)]
            log(f"pass 1: exit {passes[-1].exit_code} in {passes[-1].elapsed_s:.1f} s")
            good += scenario.good(later)
            passes.append(sync(home))
            passes.append(sync(home))
            log(f"passes 2, 3: exit {passes[-2].exit_code}, {passes[-1].exit_code}")
            failed = {row["cin7_id"]: row for row in records(home, "failed")}
            before = read_books(cin7_box.control, qad_box.control)
            log("records and books read")
            for doc in bad.values():
                cin7.post(f"purchases/{doc['ID']}/untamper")
            passes.append(sync(home))
            log(f"pass 4 (after Cin7's corrections): exit {passes[-1].exit_code}")
            after = read_books(cin7_box.control, qad_box.control)
            cin7.close()
    finally:
        home.close()
    result = judge(good, bad, failed, before, after, passes)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


def judge(
    good: list[str],
    bad: dict[str, dict[str, Any]],
    failed: dict[str, dict[str, Any]],
    before: Books,
    after: Books,
    passes: list[Any],
) -> dict[str, Any]:
    by_id = {e["id"]: e for e in before.ledger}
    kinds = {kind.name: kind for kind in KINDS}
    quarantined, not_quarantined, posted_wrongly = [], [], 0
    for name, doc in bad.items():
        key = kinds[name].keyed_by or doc["ID"]
        record = failed.get(key)
        if record is not None and record.get("reason"):
            quarantined.append(name)
            log(f"  {name}: failed: {str(record['reason'])[:150]}")
        else:
            not_quarantined.append(name)
            log(f"  {name}: NOT QUARANTINED")
        wrong = documents_of(before, doc["OrderNumber"])
        if wrong:
            posted_wrongly += 1
            log(f"  {name}: POSTED WRONGLY: {', '.join(wrong)}")
    known = {e["order_number"] for e in before.ledger}
    strays = [
        po["purchaseOrderNumber"]
        for po in before.qad["purchaseOrders"]
        if str(po.get("remarks", "")).removeprefix("Cin7 ").strip() not in known
    ]
    for number in strays:
        log(f"  QAD PO {number} belongs to no Cin7 purchase")
    good_posted = 0
    for pid in good:
        missing = landed(before, by_id[pid])
        good_posted += not missing
        for finding in missing:
            log(f"  good purchase: {finding}")
    healed = 0
    for name, doc in bad.items():
        entry = after.entry(doc["OrderNumber"])
        missing = landed(after, entry) if entry is not None else ["not in Cin7's ledger"]
        healed += not missing
        for finding in missing:
            log(f"  {name} after Cin7's correction: {finding}")
    return {
        "kinds": len(bad),
        "quarantined": len(quarantined),
        "posted_wrongly": posted_wrongly + len(strays),
        "stalled_passes": sum(1 for p in passes if p.exit_code not in (0, 1)),
        "good_posted": good_posted,
        "good_total": len(good),
        "healed": healed,
        "heal_total": len(bad),
        "exit_codes": [p.exit_code for p in passes],
        "not_quarantined": sorted(not_quarantined),
    }


if __name__ == "__main__":
    main()
