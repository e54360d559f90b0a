"""The pure planner: which QAD documents one Cin7 purchase must produce, given what QAD holds.

`plan(purchase, supplier, mappings, posted, ctx)` reads no clock, store or network. It returns a
`Plan`: the actions still to run, in dependency order, and why anything else is not run.

Decisions (design.md, flow step 4):

- **Status.** `failed` when the payload does not make sense (`problems`); `waiting` until the
  order is AUTHORISED (a blind receipt counts once goods are in); `void` when voided before
  anything reached QAD, or once the PO is closed; `attention` when voided after goods were
  received (or invoices posted) in QAD, or when a posted invoice changed in Cin7 — a person must
  act (`attention` lists why); otherwise `pending` when there are actions, `blocked` when nothing
  can run for want of a mapping (`missing`), `held` when only invoices wait for receipts
  (`holds`), and `posted` when QAD holds everything. `pending` can come with holds (invoices wait
  while receipts are being posted: the engine plans again after they post) and with `missing`.
- **Missing mappings.** Before the PO is in QAD, any missing mapping blocks the whole purchase,
  so nothing half-posts. Once the PO is posted, only the actions that need the missing mapping
  (and those depending on them) are left out; the rest runs.
- **PO.** Number = `OrderNumber` when it fits (see `codes`), remarks carry the `OrderNumber`.
  Lines follow the order, then SKUs received but not ordered (blind receipts, extra goods).
  A line's quantity is the larger of ordered and received in Cin7, so receipts always land.
  Unit cost = Price x (1 - Discount/100), net of line tax when prices include tax. Once posted a
  line keeps its number; new SKUs take the next numbers; SKUs neither ordered nor received any
  more are closed with quantity 0. Any difference from what was posted is one
  `UpdatePurchaseOrder`, never a second `CreatePurchaseOrder`.
- **Receipts.** One `PostReceipt` per AUTHORISED block (`Receipt.key`: day, or task/day for
  Advanced PutAway), quantities per SKU. A block whose quantities differ from what was posted
  (edited, voided, or gone) gets an adjustment `#adj<n>` carrying the signed difference. When a
  Simple purchase becomes Advanced, receipts posted under bare-day keys count towards the new
  task blocks of that day instead of being reversed and received again. Adjustments that only
  take quantity away run before the PO update (QAD refuses an order quantity below received).
- **Invoices.** AUTHORISED or PAID. In Cin7 order, each invoice is planned only when, for every
  SKU, QAD's received quantity (posted receipts and reversals plus this plan's receipts) minus
  what is invoiced already (posted and planned invoices, less credit notes) minus what earlier
  held invoices wait for covers it; otherwise it is held (first come, first served) with reasons
  such as `WID-100: invoiced 10, received in QAD 6`. An invoice line whose SKU is neither on the
  order nor received is held too (the goods may still arrive). A posted invoice that changes or
  is voided in Cin7 is never re-posted: it is flagged for a person.
- **Credit notes** give back invoiced quantity and are held until QAD's invoiced quantity covers
  them. **Unstock** lines become negative receipts (`ReverseReceipt`), after the credit notes.
- **Void.** Before the PO reached QAD: nothing (`void`). PO posted and nothing received or
  invoiced in QAD: `ClosePurchaseOrder`. Otherwise `attention`. Of a voided purchase `posted`
  includes our own PO or invoice that reached QAD with its outcome lost (a kill, a refusal
  after QAD saved it): the engine looks those up in QAD first (`sync.unrecorded`), so such a
  PO is closed like any posted one, never left open.
- **Cut-over** (`ctx.cutover`, the connection's `--since`). A purchase ordered before it whose
  PO QAD does not hold plans nothing: `before-cutover` when nothing on it is dated on or after
  the cut-over (finance keyed it by hand), `go-live` with the actions it *would* run when a
  receipt, invoice or credit note is (the engine first tries to adopt the PO from QAD; failing
  that the purchase waits on the go-live worklist until a person posts it, which the engine
  passes back in as `ctx.cutover_released`). Once the PO is in QAD (adopted or posted) the
  purchase plans as usual. A void purchase stays `void`.
- **References** without a Cin7 number get a stable fallback, `<PO>-I<n>` / `<PO>-C<n>` by
  position on the purchase (see `codes`).

Shared entries: the engine passes, with the purchase's own posted documents, the posted
`supplier:<id>` and `item:<SKU>` entries listed by `shared_keys(purchase)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from ml_connector.cin7.models import (
    Charge,
    CreditNote,
    Invoice,
    Line,
    Purchase,
    Receipt,
    StockLine,
    Supplier,
)
from ml_connector.sync import codes
from ml_connector.sync.actions import (
    Action,
    ClosePurchaseOrder,
    CreatePurchaseOrder,
    EnsureItem,
    EnsureSupplier,
    GlLine,
    MatchLine,
    OrderLine,
    PostCreditNote,
    PostInvoice,
    PostReceipt,
    PriceVariance,
    ReceiveLine,
    ReverseReceipt,
    UpdatePurchaseOrder,
)
from ml_connector.sync.amounts import (
    CENT,
    HUNDRED,
    ZERO,
    MoneyRule,
    extended,
    fmt_money,
    fmt_price,
    fmt_qty,
    quantize,
)
from ml_connector.sync.checks import (
    ACTIVE_INVOICE,
    AUTHORISED,
    check_purchase,
    document_currency,
    is_authorised,
    is_stock_line,
    is_voided,
    order_authorised,
    status_of,
)
from ml_connector.sync.inputs import (
    KIND_WORDS,
    Mappings,
    PlanContext,
    Posted,
    PostedState,
    fold,
)
from ml_connector.vocab import MappingKind

PlanStatus = Literal[
    "posted",
    "pending",
    "held",
    "blocked",
    "failed",
    "waiting",
    "void",
    "attention",
    "before-cutover",
    "go-live",
]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

Place = tuple[str, str]
"""Where received goods are: (SKU folded, QAD site)."""
_K = TypeVar("_K", str, Place)


@dataclass(frozen=True)
class Shortfall:
    """One SKU an invoice (or credit note) needs more of than QAD holds for it."""

    sku: str
    po_line: int | None
    needed: Decimal
    available: Decimal


@dataclass(frozen=True)
class Hold:
    """An invoice or credit note not planned yet; `reason` is what a finance user reads."""

    natural_key: str
    invoice_number: str
    reason: str
    shortfalls: tuple[Shortfall, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What to do in QAD for one purchase, and why anything else is not done (see module doc)."""

    status: PlanStatus
    actions: tuple[Action, ...] = ()
    holds: tuple[Hold, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    attention: tuple[str, ...] = ()
    po_number: str | None = None
    supplier_code: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(action.natural_key for action in self.actions)

    def action(self, natural_key: str) -> Action | None:
        return next((a for a in self.actions if a.natural_key == natural_key), None)


def shared_keys(purchase: Purchase) -> tuple[str, ...]:
    """Natural keys outside the purchase that `plan` reads: its supplier and its SKUs' items."""
    skus = [line.sku for line in purchase.order.lines if is_stock_line(line)]
    skus += [line.sku for receipt in purchase.receipts for line in receipt.lines]
    skus += [
        line.sku for invoice in purchase.invoices for line in invoice.lines if is_stock_line(line)
    ]
    keys = [f"supplier:{purchase.supplier_id}"] if purchase.supplier_id else []
    keys += [f"item:{sku.strip().upper()}" for sku in skus if sku.strip()]
    return tuple(dict.fromkeys(keys))


def plan(
    purchase: Purchase,
    supplier: Supplier | None,
    mappings: Mappings,
    posted: PostedState,
    ctx: PlanContext,
) -> Plan:
    """Compute the QAD actions this purchase still needs. Pure: same inputs, same plan.

    `supplier` is the Cin7 supplier of the purchase (None when it could not be read: then the
    supplier must be mapped or already created). `posted` is what QAD holds (see
    `inputs.Posted`); executing the returned actions and recording each as
    `posted[a.natural_key] = Posted(qad_id, a.posted_details(qad_id))` makes the next plan on
    the same purchase come back with no actions.

    Example: `plan(purchase, supplier, mappings, {}, PlanContext("10USA", "10USACO"))` for a new
    authorised purchase gives status `pending` with `EnsureSupplier`, `CreatePurchaseOrder`, the
    receipts of its authorised blocks and the invoices those receipts cover.
    """
    order_number = purchase.order_number.strip()
    if is_voided(purchase):
        return _plan_void(purchase, posted, ctx)
    if not is_authorised(purchase):
        po = posted.get(f"po:{order_number}")
        note = f"the order is {status_of(purchase.order.status) or 'not started'} in Cin7"
        if po is not None:
            note += f"; QAD keeps PO {_po_number_of(po)} as posted"
        return Plan(status="waiting", notes=(note,))
    problems = check_purchase(purchase, supplier)
    if problems:
        return Plan(status="failed", problems=tuple(dict.fromkeys(problems)))
    planned = _Planner(purchase, supplier, mappings, posted, ctx).run()
    return _cutover(purchase, posted, ctx, planned)


def before_cutover(purchase: Purchase, ctx: PlanContext) -> bool:
    """True when `purchase` was ordered before the connection's cut-over date."""
    ordered = purchase.order_date
    return ctx.cutover is not None and ordered is not None and ordered < ctx.cutover


def activity_after_cutover(purchase: Purchase, cutover: date) -> tuple[str, ...]:
    """What on `purchase` is dated on or after `cutover`, as a person reads it."""
    found = [
        f"receipt {r.key} dated {r.date}" for r in purchase.receipts if r.date and r.date >= cutover
    ]
    found += [
        f"invoice {i.number or '?'} dated {i.date}"
        for i in purchase.invoices
        if i.date and i.date >= cutover
    ]
    found += [
        f"credit note {c.number or '?'} dated {c.date}"
        for c in purchase.credit_notes
        if c.date and c.date >= cutover
    ]
    return tuple(found)


def _cutover(purchase: Purchase, posted: PostedState, ctx: PlanContext, planned: Plan) -> Plan:
    if not before_cutover(purchase, ctx) or ctx.cutover_released:
        return planned
    if f"po:{purchase.order_number.strip()}" in posted:
        return planned
    assert ctx.cutover is not None
    ordered = f"ordered {purchase.order_date} before the cut-over {ctx.cutover}"
    later = activity_after_cutover(purchase, ctx.cutover)
    if not later:
        return Plan(status="before-cutover", notes=(ordered,))
    if not planned.actions:
        return planned  # blocked, held or failed: that must be dealt with first either way
    return Plan(
        status="go-live",
        actions=planned.actions,
        holds=planned.holds,
        notes=(f"{ordered}, with {', '.join(later)}; QAD holds no PO for it",),
        po_number=planned.po_number,
        supplier_code=planned.supplier_code,
    )


# --- void ----------------------------------------------------------------------------------


def _plan_void(purchase: Purchase, posted: PostedState, ctx: PlanContext) -> Plan:
    order_number = purchase.order_number.strip()
    po = posted.get(f"po:{order_number}") if order_number else None
    invoices = sorted(
        str(p.details.get("reference") or key.split(":", 2)[-1])
        for key, p in posted.items()
        if key.startswith("invoice:")
    )
    voided = f"{order_number} was voided in Cin7"
    if po is None:
        if invoices:  # a purchase without a PO (nothing stocked) whose invoices are in QAD
            return Plan(
                status="attention",
                attention=(
                    f"{voided} after QAD took its invoices {', '.join(invoices)}: "
                    "reverse them in QAD with a credit note",
                ),
            )
        return Plan(status="void", notes=("voided in Cin7 before anything was posted to QAD",))
    number = _po_number_of(po)
    names: dict[str, str] = {}
    received = _posted_movements(posted, order_number, names)
    in_stock = {names[sku]: qty for sku, qty in received.items() if qty > 0}
    if in_stock or invoices:
        reasons = []
        if in_stock:
            goods = ", ".join(f"{sku} {fmt_qty(qty)}" for sku, qty in sorted(in_stock.items()))
            reasons.append(
                f"{voided} after goods were received in QAD on PO {number} ({goods}): "
                "reverse the receipts or close the PO in QAD by hand"
            )
        if invoices:
            reasons.append(
                f"{voided} but QAD holds its invoices {', '.join(invoices)}: reverse them in QAD"
            )
        return Plan(status="attention", attention=tuple(reasons), po_number=number)
    close_key = f"close:{order_number}"
    if close_key in posted:
        return Plan(status="void", notes=(f"PO {number} is closed in QAD",), po_number=number)
    close = ClosePurchaseOrder(
        natural_key=close_key, number=number, order_number=order_number, domain=ctx.domain
    )
    return Plan(status="pending", actions=(close,), po_number=number)


# --- reading what QAD holds ----------------------------------------------------------------


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ZERO


def _rows(details: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = details.get(name)
    if not isinstance(value, list):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def _po_number_of(po: Posted) -> str:
    return str(po.details.get("number") or po.qad_id)


def _sku_quantities(
    entries: Iterable[Posted], sign: int = 1, names: dict[str, str] | None = None
) -> dict[str, Decimal]:
    """Quantities per SKU (folded) in posted `lines`; `names` collects SKUs as Cin7 spells them."""
    totals: dict[str, Decimal] = {}
    for entry in entries:
        for row in _rows(entry.details, "lines"):
            shown = str(row.get("sku", ""))
            sku = fold(shown)
            totals[sku] = totals.get(sku, ZERO) + sign * _dec(row.get("quantity"))
            if names is not None:
                names.setdefault(sku, shown)
    return totals


def _placed_quantities(entries: Iterable[Posted]) -> dict[tuple[str, str | None], Decimal]:
    """Quantities per (SKU folded, site) in posted receipt `lines`; site None when the row was
    recorded before receipts carried their site (it then went to the PO line's site)."""
    totals: dict[tuple[str, str | None], Decimal] = {}
    for entry in entries:
        for row in _rows(entry.details, "lines"):
            site = row.get("site")
            place = (fold(str(row.get("sku", ""))), None if site is None else str(site))
            totals[place] = totals.get(place, ZERO) + _dec(row.get("quantity"))
    return totals


def _movement_groups(posted: PostedState, prefix: str) -> dict[str, dict[int, Posted]]:
    """Posted receipts under `prefix`, by Cin7 block, then by adjustment number (0 = base)."""
    groups: dict[str, dict[int, Posted]] = {}
    for key, entry in posted.items():
        if not key.startswith(prefix):
            continue
        block, adjustment = key[len(prefix) :], 0
        base, sep, number = block.rpartition("#adj")
        if sep and number.isdigit():
            block, adjustment = base, int(number)
        groups.setdefault(block, {})[adjustment] = entry
    return groups


def _posted_movements(
    posted: PostedState, order_number: str, names: dict[str, str] | None = None
) -> dict[str, Decimal]:
    """Net quantity received in QAD per SKU (fold) from posted receipts and reversals."""
    entries = [
        entry
        for prefix in (f"receipt:{order_number}:", f"unstock:{order_number}:")
        for group in _movement_groups(posted, prefix).values()
        for entry in group.values()
    ]
    return _sku_quantities(entries, names=names)


def _plus(a: Mapping[_K, Decimal], b: Mapping[_K, Decimal]) -> dict[_K, Decimal]:
    total = dict(a)
    for key, value in b.items():
        total[key] = total.get(key, ZERO) + value
    return total


def _minus(want: Mapping[Place, Decimal], have: Mapping[Place, Decimal]) -> dict[Place, Decimal]:
    """Non-zero differences want - have."""
    delta = {key: want.get(key, ZERO) - have.get(key, ZERO) for key in {*want, *have}}
    return {key: value for key, value in sorted(delta.items()) if value != 0}


def _by_sku(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, Decimal, set[Decimal]]]:
    """Matching lines per SKU (folded): as Cin7 spells it, total quantity, unit prices."""
    found: dict[str, tuple[str, Decimal, set[Decimal]]] = {}
    for row in rows:
        shown = str(row.get("sku", ""))
        _, quantity, prices = found.get(fold(shown), (shown, ZERO, set()))
        found[fold(shown)] = (
            shown,
            quantity + _dec(row.get("quantity")),
            prices | {_dec(row.get("unit_price"))},
        )
    return found


def _changes(done: Posted, document: _Document) -> list[str]:
    """What differs between a posted invoice/credit note and Cin7's document now, in words:
    lines added or removed, quantities, prices, GL lines and tax."""
    old = _by_sku(_rows(done.details, "lines"))
    new = _by_sku(m.as_details() for m in document.matching)
    changes: list[str] = []

    def prices(values: set[Decimal]) -> str:
        return "/".join(fmt_price(v) for v in sorted(values))

    for sku in [*old, *(k for k in new if k not in old)]:
        if sku not in new:
            changes.append(f"{old[sku][0]} removed (was {fmt_qty(old[sku][1])})")
        elif sku not in old:
            shown, quantity, price = new[sku]
            changes.append(f"{shown} added ({fmt_qty(quantity)} at {prices(price)})")
        else:
            shown, quantity, price = new[sku]
            if quantity != old[sku][1]:
                changes.append(f"{shown} quantity {fmt_qty(old[sku][1])} → {fmt_qty(quantity)}")
            if price != old[sku][2]:
                changes.append(f"{shown} price {prices(old[sku][2])} → {prices(price)}")
    old_gl: dict[str, Decimal] = {}
    for row in _rows(done.details, "gl"):
        code = str(row.get("gl_code", ""))
        old_gl[code] = old_gl.get(code, ZERO) + _dec(row.get("amount"))
    new_gl: dict[str, Decimal] = {}
    for line in document.gl_lines:
        new_gl[line.gl_code] = new_gl.get(line.gl_code, ZERO) + line.amount
    for code in sorted({*old_gl, *new_gl}):
        before, after = old_gl.get(code, ZERO), new_gl.get(code, ZERO)
        if before != after:
            changes.append(f"account {code} {fmt_money(before)} → {fmt_money(after)}")
    old_tax = _dec(done.details.get("tax_amount"))
    if "tax_amount" in done.details and old_tax != document.tax:
        changes.append(f"tax {fmt_money(old_tax)} → {fmt_money(document.tax)}")
    return changes


@dataclass
class _Want:
    sku: str
    name: str
    quantity: Decimal
    unit_cost: Decimal


@dataclass(frozen=True)
class _PostedLine:
    line: int
    sku: str
    item_code: str
    description: str
    quantity: Decimal
    unit_cost: Decimal
    status: str


@dataclass(frozen=True)
class _Block:
    """Desired signed quantities per place for one Cin7 receiving or unstock block, and the
    location mappings it lacks (`((kind, value), text)`)."""

    key: str
    day: date
    quantities: dict[Place, Decimal]
    missing: tuple[tuple[tuple[str, str], str], ...] = ()


@dataclass(frozen=True)
class _Move:
    block: str
    day: date
    adjustment: int
    natural_key: str
    delta: dict[Place, Decimal]


@dataclass(frozen=True)
class _Document:
    matching: tuple[MatchLine, ...]
    gl_lines: tuple[GlLine, ...]
    need: dict[str, Decimal]
    amount: Decimal
    tax: Decimal = ZERO


@dataclass(frozen=True)
class _Pending:
    """An AUTHORISED (or PAID) invoice or credit note QAD does not hold yet."""

    kind: Literal["invoice", "credit"]
    key: str
    reference: str
    source: Invoice | CreditNote
    document: _Document
    variances: tuple[PriceVariance, ...] = ()
    price_problems: tuple[str, ...] = ()


@dataclass
class _Ledger:
    """QAD quantities per SKU (fold) as the plan unfolds, and the planned keys behind them."""

    received: dict[str, Decimal]
    invoiced: dict[str, Decimal]
    receipt_keys: dict[str, list[str]] = field(default_factory=dict)
    invoice_keys: dict[str, list[str]] = field(default_factory=dict)
    credit_keys: dict[str, list[str]] = field(default_factory=dict)


def _carry_over(
    blocks: list[_Block], own: Mapping[str, Mapping[Place, Decimal]]
) -> tuple[dict[str, dict[Place, Decimal]], dict[str, dict[Place, Decimal]]]:
    """Count receipts posted under a bare day (Simple) towards that day's Advanced blocks.

    Returns what each current block is credited with, and what each orphan day should still
    hold (the rest of it is reversed by an adjustment). Stable: applying the result and planning
    again gives the same split.
    """
    current = {block.key for block in blocks}
    credited: dict[str, dict[Place, Decimal]] = {}
    kept: dict[str, dict[Place, Decimal]] = {}
    for orphan in sorted(own):
        if orphan in current or not _DAY.fullmatch(orphan):
            continue
        remaining = {place: qty for place, qty in own[orphan].items() if qty > 0}
        taken: dict[Place, Decimal] = {}
        for block in blocks:
            if not block.key.endswith("/" + orphan):
                continue
            for place, want in block.quantities.items():
                give = min(remaining.get(place, ZERO), want)
                if give > 0:
                    credited.setdefault(block.key, {})[place] = give
                    remaining[place] -= give
                    taken[place] = taken.get(place, ZERO) + give
        kept[orphan] = taken
    return credited, kept


def _day_of(block: str, entries: Mapping[int, Posted], fallback: date) -> date:
    tail = block.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    for text in [tail, *(str(e.details.get("effective_date", "")) for e in entries.values())]:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    return fallback


# --- the planner ---------------------------------------------------------------------------


class _Planner:
    def __init__(
        self,
        purchase: Purchase,
        supplier: Supplier | None,
        mappings: Mappings,
        posted: PostedState,
        ctx: PlanContext,
    ) -> None:
        assert purchase.order_date is not None  # check_purchase guarantees it
        self.purchase = purchase
        self.supplier = supplier
        self.mappings = mappings
        self.posted = posted
        self.ctx = ctx
        self.order_date: date = purchase.order_date
        self.order_number = purchase.order_number.strip()
        self.inclusive = purchase.tax_calculation.strip().lower() == "inclusive"
        self.po_key = f"po:{self.order_number}"
        self.po_posted = posted.get(self.po_key)
        self.po_number = (
            _po_number_of(self.po_posted) if self.po_posted else codes.po_number(self.order_number)
        )
        self.currency_code = document_currency(purchase, supplier)
        self.rate = purchase.currency_rate if purchase.currency_rate is not None else Decimal(1)
        self.rule = MoneyRule(ctx.rounding)
        self.supplier_code = ""
        self.supplier_dep: str | None = None
        self.needs: dict[str, list[str]] = {}
        self.missing: dict[tuple[str, str], str] = {}
        self.notes: list[str] = []
        self.attention: list[str] = []
        self.holds: list[Hold] = []
        self.names: dict[str, str] = {}
        self.supplier_actions: list[EnsureSupplier] = []
        self.items: dict[str, EnsureItem] = {}
        self.po_action: CreatePurchaseOrder | UpdatePurchaseOrder | None = None
        self.po_touched: set[int] = set()
        self.has_po = True
        self.po_site = str(self.po_posted.details.get("site") or "") if self.po_posted else ""
        self.line_of: dict[str, int] = {}
        self.cost_of: dict[str, Decimal] = {}
        self.receipts: list[PostReceipt] = []
        self.documents: list[PostInvoice | PostCreditNote] = []
        self.reversals: list[ReverseReceipt] = []

    def run(self) -> Plan:
        self.supplier_code = self._supplier()
        over = self._over_receipts()
        if over:
            return Plan(
                status="attention",
                attention=tuple(over),
                po_number=self.po_number,
                supplier_code=self.supplier_code,
            )
        self._purchase_order()
        self.receipts = self._receipts()
        self._documents()
        self.reversals = self._reversals()
        if f"close:{self.order_number}" in self.posted:
            self.attention.append(
                f"PO {self.po_number} was closed in QAD when {self.order_number} was voided, "
                "and Cin7 has authorised it again: reopen the PO in QAD by hand"
            )
        return self._finish()

    def money(self, value: Decimal) -> Decimal:
        """An amount rounded by the tenant's rule to the purchase currency's decimals."""
        return self.rule.round(value, self.currency_code)

    # --- mappings ---

    def _miss(self, key: tuple[str, str], text: str, owner: str) -> None:
        text = self.missing.setdefault(key, text)
        needs = self.needs.setdefault(owner, [])
        if text not in needs:
            needs.append(text)

    def _require(self, kind: MappingKind, value: str, owner: str, label: str = "") -> str:
        """The mapped QAD value, or "" with `<kind> <value> (<label>)` recorded as missing."""
        code = self.mappings.lookup(kind, value)
        if code:
            return code
        self._miss((kind, fold(value)), self._missing_text(kind, value, label), owner)
        return ""

    def _missing_text(self, kind: MappingKind, value: str, label: str = "") -> str:
        shown = self.mappings.label(kind, value) or label.strip()
        text = f"{KIND_WORDS[kind]} {value.strip()}"
        if shown and fold(shown) != fold(value):
            text += f" ({shown})"
        return text

    def _site(self, location: str) -> tuple[str, tuple[tuple[str, str], str] | None]:
        """The QAD site goods received at a Cin7 location go to, or what mapping is missing.

        The line's own location, else the purchase's, else the tenant's default site. A bin
        (`Main Warehouse: A-01`) maps as itself or as its location.
        """
        name = location.strip() or self.purchase.location.strip()
        if not name:
            if self.ctx.default_site:
                return self.ctx.default_site, None
            missing = "location (the receipt and the purchase name none and no default site is set)"
            return "", (("location", ""), missing)
        parent = name.split(":", 1)[0].strip() or name
        code = self.mappings.lookup("location", name) or self.mappings.lookup("location", parent)
        if code:
            return code, None
        return "", (("location", fold(parent)), self._missing_text("location", parent))

    # --- supplier ---

    def _supplier(self) -> str:
        supplier_id = self.purchase.supplier_id or ""
        mapped = self.mappings.lookup("supplier", supplier_id)
        if mapped:
            return mapped
        key = f"supplier:{supplier_id}"
        done = self.posted.get(key)
        name = self.supplier.name if self.supplier else self.purchase.supplier
        code = done.qad_id if done else codes.supplier_code(supplier_id, name)
        if self.supplier is None:
            if done is None:
                shown = self.purchase.supplier or supplier_id
                self._miss(
                    ("supplier", fold(supplier_id)), f"supplier {shown} (not found in Cin7)", key
                )
                self.supplier_dep = key
            return code
        action = self._supplier_action(self.supplier, key, code, update=done is not None)
        fingerprint = action.fingerprint()
        if done is None or any(done.details.get(k) != v for k, v in fingerprint.items()):
            self.supplier_actions.append(action)
            self.supplier_dep = key
        return code

    def _supplier_action(
        self, supplier: Supplier, key: str, code: str, *, update: bool
    ) -> EnsureSupplier:
        currency = self._require(
            "currency", supplier.currency.strip().upper() or self.currency_code, key
        )
        if supplier.payment_term.strip():
            terms = self._require("payment_term", supplier.payment_term, key)
        elif self.ctx.default_credit_terms:
            terms = self.ctx.default_credit_terms
        else:
            terms = ""
            self._miss(
                ("payment_term", ""),
                f"payment term for supplier {supplier.name} (none set in Cin7)",
                key,
            )
        tax_class = (
            self._require("tax_rule", supplier.tax_rule, key) if supplier.tax_rule.strip() else ""
        )
        address = supplier.business_address
        contact = supplier.default_contact
        return EnsureSupplier(
            natural_key=key,
            cin7_id=supplier.id or "",
            code=code,
            name=supplier.name.strip(),
            currency=currency,
            credit_terms=terms,
            tax_class=tax_class,
            street=", ".join(p.strip() for p in (address.line1, address.line2) if p.strip())
            if address
            else "",
            city=address.city.strip() if address else "",
            state=address.state.strip() if address else "",
            zip=address.postcode.strip() if address else "",
            country=address.country.strip() if address else "",
            email=contact.email.strip() if contact else "",
            phone=contact.phone.strip() if contact else "",
            remarks=f"Cin7 supplier {supplier.id}",
            # Always active: an authorised purchase from a supplier since deprecated in Cin7
            # must still land in QAD, and QAD refuses POs for an inactive supplier. Retiring
            # suppliers in QAD stays a QAD user's decision.
            active=True,
            update=update,
        )

    # --- purchase order ---

    def _unit_price(self, line: Line) -> Decimal:
        quantity = line.quantity or ZERO
        price = line.price or ZERO
        places = self.ctx.price_decimals
        if self.inclusive and quantity:
            gross = (
                line.total if line.total is not None else extended(quantity, price, line.discount)
            )
            return quantize((gross - line.tax) / quantity, places)
        return quantize(price * (HUNDRED - line.discount) / HUNDRED, places)

    def _gl_amount(self, line: Line | Charge) -> Decimal:
        if line.total is not None:
            total = line.total
        else:
            quantity = line.quantity if line.quantity is not None else ZERO
            total = extended(quantity, line.price or ZERO, line.discount)
        return self.money(total - line.tax if self.inclusive else total)

    def _active_invoices(self) -> list[Invoice]:
        return [i for i in self.purchase.invoices if status_of(i.status) in ACTIVE_INVOICE]

    def _received(self) -> list[tuple[Receipt, list[StockLine]]]:
        """AUTHORISED receiving blocks with their stocked lines (services are never received)."""
        return [
            (receipt, [stock for stock in receipt.lines if is_stock_line(stock)])
            for receipt in self.purchase.receipts
            if status_of(receipt.status) == AUTHORISED
        ]

    def _ordered_lines(self) -> list[Line]:
        """The AUTHORISED order's stocked lines: what the PO carries."""
        if not order_authorised(self.purchase):
            return []
        return [line for line in self.purchase.order.lines if is_stock_line(line)]

    def _wanted_lines(self) -> dict[str, _Want]:
        wants: dict[str, _Want] = {}
        for line in self._ordered_lines():
            sku = fold(line.sku)
            self.names.setdefault(sku, line.sku.strip())
            wants[sku] = _Want(
                line.sku.strip(), line.name, line.quantity or ZERO, self._unit_price(line)
            )
        received: dict[str, Decimal] = {}
        received_names: dict[str, str] = {}
        for _receipt, stock_lines in self._received():
            for stock in stock_lines:
                sku = fold(stock.sku)
                self.names.setdefault(sku, stock.sku.strip())
                received_names.setdefault(sku, stock.name)
                received[sku] = received.get(sku, ZERO) + (stock.quantity or ZERO)
        prices: dict[str, Decimal] = {}
        for invoice in self._active_invoices():
            for line in invoice.lines:
                if is_stock_line(line):
                    prices.setdefault(fold(line.sku), self._unit_price(line))
        for sku, quantity in received.items():
            want = wants.get(sku)
            if want is None:
                wants[sku] = _Want(
                    self.names[sku], received_names[sku], quantity, prices.get(sku, ZERO)
                )
        return wants

    def _over_receipts(self) -> list[str]:
        """Why the goods received in Cin7 exceed the order beyond the over-receipt tolerance.

        Compared per SKU: what AUTHORISED receipts brought in, less what went back on
        AUTHORISED unstock, against the AUTHORISED order's quantity plus `over_receipt_pct`.
        A SKU received but not ordered is over by definition. Nothing is posted while any SKU
        is over: the PO is never raised to fit the goods (blind receipts build their PO from
        the receipts and are not checked).
        """
        if not order_authorised(self.purchase):
            return []
        ordered: dict[str, Decimal] = {}
        for line in self._ordered_lines():
            sku = fold(line.sku)
            self.names.setdefault(sku, line.sku.strip())
            ordered[sku] = ordered.get(sku, ZERO) + (line.quantity or ZERO)
        parts: dict[str, list[Decimal]] = {}
        for _receipt, stock_lines in self._received():
            for stock in stock_lines:
                sku = fold(stock.sku)
                self.names.setdefault(sku, stock.sku.strip())
                parts.setdefault(sku, []).append(stock.quantity or ZERO)
        returned: dict[str, Decimal] = {}
        for note in self.purchase.credit_notes:
            if status_of(note.unstock_status) == AUTHORISED:
                for stock in note.unstock:
                    sku = fold(stock.sku)
                    returned[sku] = returned.get(sku, ZERO) + (stock.quantity or ZERO)
        tolerance = self.ctx.over_receipt_pct
        reasons: list[str] = []
        for sku, quantities in parts.items():
            received = sum(quantities, ZERO) - returned.get(sku, ZERO)
            limit = ordered.get(sku, ZERO) * (HUNDRED + tolerance) / HUNDRED
            if received <= limit:
                continue
            shown = " + ".join(fmt_qty(q) for q in quantities)
            if len(quantities) > 1:
                shown = f"{fmt_qty(sum(quantities, ZERO))} ({shown})"
            if sku in returned:
                shown += f", less {fmt_qty(returned[sku])} returned,"
            if sku not in ordered:
                reasons.append(
                    f"{self.names[sku]}: received {shown}, not on the order: add it to the "
                    f"order in Cin7 or correct the receipt; nothing is posted to QAD until then"
                )
                continue
            reasons.append(
                f"{self.names[sku]}: received {shown} of {fmt_qty(ordered[sku])} ordered, over "
                f"the {fmt_qty(tolerance)}% over-receipt tolerance (at most "
                f"{fmt_qty(limit)}): correct the receipt or the order in Cin7; nothing is "
                "posted to QAD until then"
            )
        return reasons

    def _posted_lines(self) -> dict[str, _PostedLine]:
        lines: dict[str, _PostedLine] = {}
        if self.po_posted is None:
            return lines
        for row in _rows(self.po_posted.details, "lines"):
            sku = str(row.get("sku", ""))
            lines[fold(sku)] = _PostedLine(
                line=int(row.get("line", 0)),
                sku=sku,
                item_code=str(row.get("item_code", "")),
                description=str(row.get("description", "")),
                quantity=_dec(row.get("quantity")),
                unit_cost=_dec(row.get("unit_cost")),
                status=str(row.get("status", "O")),
            )
            self.names.setdefault(fold(sku), sku)
        return lines

    def _item(self, want: _Want, owner: str) -> tuple[str, str | None]:
        """QAD item code for a new PO line, and the EnsureItem key it then depends on."""
        mapped = self.mappings.lookup("item", want.sku)
        if mapped:
            return mapped, None
        key = f"item:{want.sku.upper()}"
        done = self.posted.get(key)
        if done is not None:
            return done.qad_id, None
        if not self.ctx.create_missing_items:
            self._require("item", want.sku, owner)
            return "", None
        item = self.items.get(key)
        if item is None:
            inventory = self.purchase.inventory_account.strip()
            gl = self.mappings.lookup("account", inventory) or self.ctx.item_gl_account or ""
            if not gl:
                if inventory:
                    self._require("account", inventory, key, label="inventory account")
                else:
                    self._miss(
                        ("account", ""),
                        "account for new items (the purchase has no inventory account)",
                        key,
                    )
            item = EnsureItem(
                natural_key=key,
                sku=want.sku,
                code=codes.item_code(want.sku),
                description=want.name.strip() or want.sku,
                uom=self.ctx.item_uom,
                gl_account=gl,
                unit_cost=want.unit_cost,
            )
            self.items[key] = item
        return item.code, key

    def _purchase_order(self) -> None:
        key = self.po_key
        purchase = self.purchase
        wants = self._wanted_lines()
        if not wants and self.po_posted is None:
            # Nothing stocked (a Service purchase, or only service and non-inventory lines):
            # no PO; the invoices go to QAD without one.
            self.has_po = False
            return
        currency = self._require("currency", self.currency_code, key)
        location = purchase.location.strip()
        if location:
            site = self._require("location", location, key)
        elif self.ctx.default_site:
            site = self.ctx.default_site
        else:
            site = ""
            self._miss(
                ("location", ""),
                "location (the purchase names none and no default site is set)",
                key,
            )
        self.po_site = self.po_site or site
        terms = (
            self._require("payment_term", purchase.terms, key) if purchase.terms.strip() else None
        )
        posted_lines = self._posted_lines()
        deps = [self.supplier_dep] if self.supplier_dep else []
        next_number = max((p.line for p in posted_lines.values()), default=0) + 1
        lines: list[OrderLine] = []
        for sku, want in wants.items():
            done = posted_lines.get(sku)
            if done is not None:
                number, item = done.line, done.item_code
            else:
                number, next_number = next_number, next_number + 1
                item, item_key = self._item(want, key)
                if item_key:
                    deps.append(item_key)
            lines.append(
                OrderLine(number, want.sku, item, want.name, want.quantity, want.unit_cost, "O")
            )
        for sku, done in posted_lines.items():
            if sku not in wants:
                lines.append(
                    OrderLine(
                        done.line,
                        done.sku,
                        done.item_code,
                        done.description,
                        ZERO,
                        done.unit_cost,
                        "C",
                    )
                )
        lines.sort(key=lambda line: line.line)
        self.line_of = {fold(line.sku): line.line for line in lines}
        self.cost_of = {fold(line.sku): line.unit_cost for line in lines if line.status == "O"}
        create = CreatePurchaseOrder(
            natural_key=key,
            depends_on=tuple(dict.fromkeys(deps)),
            number=self.po_number,
            order_number=self.order_number,
            domain=self.ctx.domain,
            supplier_code=self.supplier_code,
            currency=currency,
            exchange_rate=self.rate,
            credit_terms=terms,
            site=site,
            order_date=self.order_date,
            due_date=purchase.required_by,
            remarks=codes.po_remarks(self.order_number),
            lines=tuple(lines),
        )
        if self.po_posted is None:
            self.po_action = create
            self.po_touched = {line.line for line in lines}
            return
        self.po_action = self._po_update(create, self.po_posted, posted_lines)

    def _po_update(
        self, create: CreatePurchaseOrder, po: Posted, posted_lines: Mapping[str, _PostedLine]
    ) -> UpdatePurchaseOrder | None:
        header = create.header_details()
        header_changed = any(
            _dec(po.details.get(name)) != _dec(value)
            if name == "exchange_rate"
            else po.details.get(name) != value
            for name, value in header.items()
        )
        by_number = {done.line: done for done in posted_lines.values()}
        added: list[int] = []
        changed: list[int] = []
        closed: list[int] = []
        for line in create.lines:
            done = by_number.get(line.line)
            if done is None:
                added.append(line.line)
            elif line.status == "C" and done.status != "C":
                closed.append(line.line)
            elif (line.status, line.quantity, line.unit_cost) != (
                done.status,
                done.quantity,
                done.unit_cost,
            ):
                changed.append(line.line)
        if not (added or changed or closed or header_changed):
            return None
        self.po_touched = {*added, *changed, *closed}
        return UpdatePurchaseOrder.from_create(
            create,
            added=tuple(added),
            changed=tuple(changed),
            closed=tuple(closed),
            header_changed=header_changed,
        )

    # --- receipts and reversals ---

    def _movements(self, prefix: str, blocks: list[_Block], *, carry_over: bool) -> list[_Move]:
        groups = _movement_groups(self.posted, prefix)
        by_key = {block.key: block for block in blocks}
        anywhere: dict[str, str] = {}
        for block in blocks:
            for sku, site in block.quantities:
                anywhere.setdefault(sku, site)
        own: dict[str, dict[Place, Decimal]] = {}
        for name, entries in groups.items():
            wanted = by_key[name].quantities if name in by_key else {}
            placed: dict[Place, Decimal] = {}
            for (sku, recorded), quantity in _placed_quantities(entries.values()).items():
                # A row recorded before receipts kept their site counts where this block (or
                # another) now wants the SKU, so nothing moves for it.
                here = [s for k, s in wanted if k == sku]
                site = (
                    recorded
                    if recorded is not None
                    else (here[0] if here else anywhere.get(sku, self.po_site))
                )
                placed[(sku, site)] = placed.get((sku, site), ZERO) + quantity
            own[name] = placed
        credited, kept = _carry_over(blocks, own) if carry_over else ({}, {})
        if credited:
            self.notes.append(
                "receipts posted before Cin7 turned this purchase into an Advanced one count "
                "towards its put-away blocks of the same day"
            )
        moves: list[_Move] = []
        for block in blocks:
            have = _plus(own.get(block.key, {}), credited.get(block.key, {}))
            delta = _minus(block.quantities, have)
            if delta:
                move = self._move(prefix, block.key, block.day, groups.get(block.key, {}), delta)
                moves.append(move)
                for key, text in block.missing:
                    self._miss(key, text, move.natural_key)
        current = {block.key for block in blocks}
        for name in sorted(groups):
            if name in current:
                continue
            delta = _minus(kept.get(name, {}), own[name])
            if delta:
                day = _day_of(name, groups[name], self.order_date)
                moves.append(self._move(prefix, name, day, groups[name], delta))
        return moves

    @staticmethod
    def _move(
        prefix: str,
        block: str,
        day: date,
        entries: Mapping[int, Posted],
        delta: dict[Place, Decimal],
    ) -> _Move:
        adjustment = max(entries) + 1 if entries else 0
        key = f"{prefix}{block}" + (f"#adj{adjustment}" if adjustment else "")
        return _Move(block, day, adjustment, key, delta)

    def _receive_lines(self, delta: Mapping[Place, Decimal]) -> tuple[ReceiveLine, ...]:
        lines = [
            ReceiveLine(self.line_of.get(sku, 0), self.names.get(sku, sku), quantity, site)
            for (sku, site), quantity in delta.items()
        ]
        return tuple(sorted(lines, key=lambda line: (line.po_line, line.site)))

    def _block(self, key: str, day: date, lines: Iterable[StockLine], sign: int = 1) -> _Block:
        """A receiving (or, with sign -1, unstock) block: quantities per SKU and site."""
        quantities: dict[Place, Decimal] = {}
        missing: dict[tuple[str, str], str] = {}
        for stock in lines:
            site, lack = self._site(stock.location)
            if lack is not None:
                missing.setdefault(*lack)
            place = (fold(stock.sku), site)
            quantities[place] = quantities.get(place, ZERO) + sign * (stock.quantity or ZERO)
        return _Block(key, day, quantities, tuple(missing.items()))

    def _receipts(self) -> list[PostReceipt]:
        blocks: list[_Block] = []
        for receipt, stock_lines in self._received():
            assert receipt.date is not None  # check_purchase fails undated receipts
            blocks.append(self._block(receipt.key, receipt.date, stock_lines))
        prefix = f"receipt:{self.order_number}:"
        actions: list[PostReceipt] = []
        for move in self._movements(prefix, blocks, carry_over=self.purchase.is_advanced):
            lines = self._receive_lines(move.delta)
            grows = any(line.quantity > 0 and line.po_line in self.po_touched for line in lines)
            task = move.block.split("/", 1)[0] if "/" in move.block else None
            actions.append(
                PostReceipt(
                    natural_key=move.natural_key,
                    depends_on=(self.po_key,) if self.po_action and grows else (),
                    po_number=self.po_number,
                    order_number=self.order_number,
                    domain=self.ctx.domain,
                    packing_slip=codes.packing_slip(
                        self.po_number,
                        move.day,
                        natural_key=move.natural_key,
                        tag=task,
                        adjustment=move.adjustment,
                    ),
                    effective_date=move.day,
                    lines=lines,
                    block=move.block,
                    adjustment=move.adjustment,
                )
            )
        return actions

    def _reversals(self) -> list[ReverseReceipt]:
        blocks: list[_Block] = []
        references = self._references(self.purchase.credit_notes, "C")
        for note, reference in zip(self.purchase.credit_notes, references, strict=True):
            if status_of(note.unstock_status) != AUTHORISED:
                continue
            days: dict[date, list[StockLine]] = {}
            for stock in note.unstock:
                days.setdefault(stock.date or self.order_date, []).append(stock)  # dates checked
            blocks += [
                self._block(f"{reference}:{day.isoformat()}", day, lines, sign=-1)
                for day, lines in sorted(days.items())
            ]
        actions: list[ReverseReceipt] = []
        keys_by_sku: dict[str, list[str]] = {}
        for receipt in self.receipts:
            for line in receipt.lines:
                keys_by_sku.setdefault(fold(line.sku), []).append(receipt.natural_key)
        prefix = f"unstock:{self.order_number}:"
        for move in self._movements(prefix, blocks, carry_over=False):
            credit_note = move.block.rsplit(":", 1)[0]
            deps = [key for sku, _ in move.delta for key in keys_by_sku.get(sku, [])]
            actions.append(
                ReverseReceipt(
                    natural_key=move.natural_key,
                    depends_on=tuple(dict.fromkeys(deps)),
                    po_number=self.po_number,
                    order_number=self.order_number,
                    domain=self.ctx.domain,
                    packing_slip=codes.packing_slip(
                        self.po_number,
                        move.day,
                        natural_key=move.natural_key,
                        tag=credit_note,
                        adjustment=move.adjustment,
                        unstock=True,
                    ),
                    effective_date=move.day,
                    lines=self._receive_lines(move.delta),
                    block=move.block,
                    adjustment=move.adjustment,
                    credit_note=credit_note,
                )
            )
        return actions

    # --- invoices and credit notes ---

    def _references(self, documents: Sequence[Invoice | CreditNote], letter: str) -> list[str]:
        return [
            codes.document_reference(d.number, self.po_number, letter=letter, index=index)
            for index, d in enumerate(documents, 1)
        ]

    def _posted_document(self, kind: str, reference: str) -> Posted | None:
        """This purchase's posted invoice/credit note with `reference`, whatever key it has.

        `posted` holds only this purchase's own documents, so the reference is enough; it finds
        documents recorded under an earlier supplier code and under the key of earlier versions
        (`<kind>:<supplier>:<reference>`, without the PO).
        """
        key = self._document_key(kind, reference)
        exact = self.posted.get(key)
        if exact is not None:
            return exact
        for name, entry in sorted(self.posted.items()):
            if name.startswith(f"{kind}:") and entry.details.get("reference") == reference:
                return entry
        return None

    def _document_key(self, kind: str, reference: str) -> str:
        """`<kind>:<supplier>:<PO>:<reference>`: one QAD document per Cin7 purchase document.

        A supplier's invoice number may be shared by several purchases (one paper invoice
        split across POs), so the PO is part of the key.
        """
        return f"{kind}:{self.supplier_code}:{self.po_number}:{reference}"

    def _document(
        self,
        key: str,
        lines: list[Line],
        charges: list[Charge],
        tax: Decimal,
        total: Decimal | None,
        name: str,
    ) -> _Document:
        quantities: dict[tuple[str, Decimal], Decimal] = {}
        gl_lines: list[GlLine] = []
        for line in lines:
            if is_stock_line(line):
                sku = fold(line.sku)
                self.names.setdefault(sku, line.sku.strip())
                price = (sku, self._unit_price(line))
                quantities[price] = quantities.get(price, ZERO) + (line.quantity or ZERO)
            else:
                # Services, non-inventory products and lines without a product: never
                # received, so never waited for; booked to the GL account mapped from the line's.
                label = " ".join(part for part in (line.sku.strip(), line.name.strip()) if part)
                code = self._require("account", line.account, key, label=label)
                gl_lines.append(GlLine(code, self._gl_amount(line), label, line.account.strip()))
        for charge in charges:
            label = charge.description or charge.reference
            code = self._require("account", charge.account, key, label=label)
            gl_lines.append(GlLine(code, self._gl_amount(charge), label, charge.account.strip()))
        matching = tuple(
            MatchLine(self.line_of.get(sku, 0), self.names[sku], quantity, price)
            for (sku, price), quantity in quantities.items()
        )
        need: dict[str, Decimal] = {}
        for (sku, _), quantity in quantities.items():
            need[sku] = need.get(sku, ZERO) + quantity
        amount = self.money(
            sum((m.quantity * m.unit_price for m in matching), ZERO)
            + sum((g.amount for g in gl_lines), ZERO)
            + tax
        )
        if total is not None and abs(amount - total) > CENT:
            self.notes.append(
                f"{name}: QAD amount {fmt_money(amount)} differs from Cin7's total "
                f"{fmt_money(total)} because unit prices are rounded to "
                f"{self.ctx.price_decimals} places"
            )
        return _Document(matching, tuple(gl_lines), need, amount, tax)

    def _check_posted(self, name: str, done: Posted, document: _Document) -> None:
        """A posted invoice or credit note is never posted again: say what changed since."""
        old_amount = _dec(done.details.get("amount"))
        changes = _changes(done, document)
        if not changes and old_amount == document.amount:
            return
        what = "; ".join(
            [*changes, f"amount {fmt_money(old_amount)} → {fmt_money(document.amount)}"]
        )
        hint = (
            " (a credit note entered in Cin7 posts to QAD by itself)"
            if name.startswith("invoice")
            else ""
        )
        self.attention.append(
            f"{name} changed in Cin7 after QAD took it as voucher {done.qad_id} ({what}): QAD "
            f"keeps voucher {done.qad_id} as posted; correct it in QAD, or reverse it there and "
            f"enter the corrected document by hand{hint}"
        )

    def _ledger(self) -> _Ledger:
        received = _posted_movements(self.posted, self.order_number)
        ledger = _Ledger(received=received, invoiced={})
        for receipt in self.receipts:
            for line in receipt.lines:
                sku = fold(line.sku)
                received[sku] = received.get(sku, ZERO) + line.quantity
                ledger.receipt_keys.setdefault(sku, []).append(receipt.natural_key)
        invoiced = [e for k, e in self.posted.items() if k.startswith("invoice:")]
        credited = [e for k, e in self.posted.items() if k.startswith("credit:")]
        ledger.invoiced = _plus(_sku_quantities(invoiced), _sku_quantities(credited, sign=-1))
        return ledger

    def _documents(self) -> None:
        """Plan invoices and credit notes in passes until nothing more fits.

        Within a pass documents go in Cin7 order (invoices, then credit notes) against a running
        ledger; an invoice that does not fit holds back its quantities from later invoices of
        that pass (first come, first served). A credit note gives back invoiced quantity, which
        may let a held invoice through on the next pass. The holds are those of the last pass,
        which is what planning again after execution would find.
        """
        ledger = self._ledger()
        waiting: list[_Pending] = []
        invoices = self.purchase.invoices
        for invoice, reference in zip(invoices, self._references(invoices, "I"), strict=True):
            waiting += self._pending("invoice", reference, invoice)
        notes = self.purchase.credit_notes
        for note, reference in zip(notes, self._references(notes, "C"), strict=True):
            waiting += self._pending("credit", reference, note)
        withheld: dict[str, Decimal] = {}
        for item in [item for item in waiting if item.price_problems]:
            self.attention.extend(item.price_problems)
            waiting.remove(item)
            for sku, quantity in item.document.need.items():
                withheld[sku] = withheld.get(sku, ZERO) + quantity
        while True:
            # An invoice waiting for a price correction keeps its turn on the received goods.
            reserved: dict[str, Decimal] = dict(withheld)
            holds: list[Hold] = []
            planned = False
            for item in list(waiting):
                hold = self._hold(item, ledger, reserved)
                if hold is None:
                    self.documents.append(self._plan_document(item, ledger))
                    waiting.remove(item)
                    planned = True
                    continue
                holds.append(hold)
                if item.kind == "invoice":
                    for sku, quantity in item.document.need.items():
                        reserved[sku] = reserved.get(sku, ZERO) + quantity
            if not planned:
                self.holds = holds
                return

    def _pending(
        self, kind: Literal["invoice", "credit"], reference: str, source: Invoice | CreditNote
    ) -> list[_Pending]:
        """The document if it still has to reach QAD; flags posted ones that changed."""
        key = self._document_key(kind, reference)
        name = f"{'invoice' if kind == 'invoice' else 'credit note'} {reference}"
        done = self._posted_document(kind, reference)
        status = status_of(source.status)
        active = ACTIVE_INVOICE if kind == "invoice" else {AUTHORISED}
        if status not in active:
            if done is not None:
                became = {"VOIDED": "voided", "DRAFT": "set back to draft"}.get(
                    status, f"made {status}" if status else "removed"
                )
                amount = f"{fmt_money(_dec(done.details.get('amount')))} {self.currency_code}"
                hint = (
                    " (a credit note entered in Cin7 instead posts to QAD by itself)"
                    if kind == "invoice"
                    else ""
                )
                self.attention.append(
                    f"{name} was {became} in Cin7 after QAD took it as voucher {done.qad_id} "
                    f"({amount}): reverse voucher {done.qad_id} in QAD{hint}"
                )
            return []
        document = self._document(key, source.lines, source.charges, source.tax, source.total, name)
        if done is not None:
            self._check_posted(name, done, document)
            return []
        if kind == "credit":
            return [_Pending(kind, key, reference, source, document)]
        variances, problems = self._price_check(name, document)
        return [_Pending(kind, key, reference, source, document, variances, problems)]

    def _price_check(
        self, name: str, document: _Document
    ) -> tuple[tuple[PriceVariance, ...], tuple[str, ...]]:
        """Each invoice price against its PO line's unit cost, with the price tolerance.

        A line is within the tolerance when its difference is at most `price_tolerance_pct` of
        the PO price or at most `price_tolerance_amount` a unit, whichever allows more; within
        it the difference is a variance QAD posts, beyond it the invoice waits for a person.
        """
        variances: list[PriceVariance] = []
        problems: list[str] = []
        pct, amount = self.ctx.price_tolerance_pct, self.ctx.price_tolerance_amount
        for match in document.matching:
            po_price = self.cost_of.get(fold(match.sku))
            if po_price is None or po_price == match.unit_price:
                continue
            difference = match.unit_price - po_price
            allowed = max(po_price * pct / HUNDRED, amount)
            if abs(difference) <= allowed:
                variances.append(
                    PriceVariance(
                        match.po_line, match.sku, match.quantity, po_price, match.unit_price
                    )
                )
                continue
            share = (
                f", {fmt_qty(quantize(difference * HUNDRED / po_price, 1))}%" if po_price else ""
            )
            problems.append(
                f"{name}: {match.sku} is invoiced at {fmt_price(match.unit_price)}, the PO price "
                f"is {fmt_price(po_price)} ({'+' if difference > 0 else ''}"
                f"{fmt_price(difference)}{share}), beyond the price tolerance of "
                f"{fmt_qty(pct)}% or {fmt_price(amount)} a unit: correct the price in Cin7 "
                "(invoice or order); the invoice is not posted until then"
            )
        return tuple(variances), tuple(problems)

    def _hold(
        self, item: _Pending, ledger: _Ledger, reserved: Mapping[str, Decimal]
    ) -> Hold | None:
        """Why the document cannot go to QAD now, or None when QAD's quantities cover it."""
        reasons: list[str] = []
        shortfalls: list[Shortfall] = []
        for sku, quantity in item.document.need.items():
            line = self.line_of.get(sku)
            invoiced = ledger.invoiced.get(sku, ZERO)
            if item.kind == "credit":
                if quantity <= invoiced:
                    continue
                reasons.append(
                    f"{self.names[sku]}: credited {fmt_qty(quantity)}, invoiced in QAD "
                    f"{fmt_qty(invoiced)}"
                )
                shortfalls.append(Shortfall(self.names[sku], line, quantity, invoiced))
                continue
            received = ledger.received.get(sku, ZERO)
            earlier = reserved.get(sku, ZERO)
            available = received - invoiced - earlier
            if quantity <= available:
                continue
            reason = (
                f"{self.names[sku]}: invoiced {fmt_qty(quantity)}, "
                f"received in QAD {fmt_qty(received)}"
            )
            if invoiced > 0:
                reason += f", {fmt_qty(invoiced)} of it already invoiced"
            if earlier > 0:
                reason += f", {fmt_qty(earlier)} waiting for earlier invoices"
            if line is None:
                reason += " (not on the order)"
            reasons.append(reason)
            shortfalls.append(Shortfall(self.names[sku], line, quantity, available))
        if not shortfalls:
            return None
        return Hold(item.key, item.reference, "; ".join(reasons), tuple(shortfalls))

    def _plan_document(self, item: _Pending, ledger: _Ledger) -> PostInvoice | PostCreditNote:
        need = item.document.need
        deps = [self.supplier_dep] if self.supplier_dep else []
        lines = {self.line_of.get(sku) for sku in need}
        if self.po_action is not None and (
            isinstance(self.po_action, CreatePurchaseOrder) or lines & self.po_touched
        ):
            deps.append(self.po_key)
        # An invoice draws on this plan's receipts and on quantity its credit notes gave back;
        # a credit note gives back what this plan's invoices invoiced.
        sources = (
            [ledger.receipt_keys, ledger.credit_keys]
            if item.kind == "invoice"
            else [ledger.invoice_keys]
        )
        deps += [key for keys in sources for sku in need for key in keys.get(sku, [])]
        source = item.source
        fields: dict[str, Any] = {
            "natural_key": item.key,
            "depends_on": tuple(dict.fromkeys(deps)),
            "entity": self.ctx.entity,
            "supplier_code": self.supplier_code,
            "reference": item.reference,
            "cin7_number": source.number.strip(),
            "order_number": self.order_number,
            "po_number": self.po_number if self.has_po else "",
            "document_date": source.date or self.order_date,
            "currency": self._require("currency", self.currency_code, item.key),
            "amount": item.document.amount,
            "tax_amount": source.tax,
            "description": codes.invoice_description(self.order_number, item.reference),
            "matching": item.document.matching,
            "gl_lines": item.document.gl_lines,
        }
        sign = 1 if item.kind == "invoice" else -1
        mine = ledger.invoice_keys if item.kind == "invoice" else ledger.credit_keys
        for sku, quantity in need.items():
            ledger.invoiced[sku] = ledger.invoiced.get(sku, ZERO) + sign * quantity
            mine.setdefault(sku, []).append(item.key)
        if isinstance(source, Invoice):
            return PostInvoice(
                **fields,
                due_date=source.due_date,
                exchange_rate=source.currency_rate or self.rate,
                variances=item.variances,
            )
        return PostCreditNote(**fields, due_date=None, exchange_rate=self.rate)

    # --- result ---

    def _finish(self) -> Plan:
        missing = tuple(dict.fromkeys(self.missing.values()))
        # Nothing of the purchase is in QAD yet: post it whole or not at all. A purchase
        # without a PO has started once one of its invoices is in QAD.
        started = self.po_posted is not None or any(
            key.startswith(("invoice:", "credit:")) for key in self.posted
        )
        if missing and not started:
            return Plan(
                status="blocked",
                missing=missing,
                po_number=self.po_number if self.has_po else None,
                supplier_code=self.supplier_code,
            )
        reductions = [r for r in self.receipts if all(line.quantity < 0 for line in r.lines)]
        increases = [r for r in self.receipts if r not in reductions]
        ordered: list[Action] = [
            *self.supplier_actions,
            *self.items.values(),
            *reductions,
            *([self.po_action] if self.po_action else []),
            *increases,
            *self.documents,
            *self.reversals,
        ]
        dropped = {key for key, needs in self.needs.items() if needs}
        actions: list[Action] = []
        for action in ordered:
            if action.natural_key in dropped or dropped.intersection(action.depends_on):
                dropped.add(action.natural_key)
            else:
                actions.append(action)
        status: PlanStatus
        if actions:
            status = "pending"
        elif missing:
            status = "blocked"
        elif self.attention:
            status = "attention"
        elif self.holds:
            status = "held"
        else:
            status = "posted"
        return Plan(
            status=status,
            actions=tuple(actions),
            holds=tuple(self.holds),
            missing=missing,
            notes=tuple(dict.fromkeys(self.notes)),
            attention=tuple(self.attention),
            po_number=self.po_number if self.has_po else None,
            supplier_code=self.supplier_code,
        )
