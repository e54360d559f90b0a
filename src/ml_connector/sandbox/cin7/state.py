"""The Cin7 sandbox's in-memory state: records, the sandbox clock, faults and call statistics.

The public methods mirror the `/_sandbox/` endpoints, for tests and the demo. Each mutation
bumps the purchase's `LastUpdatedDate` to a stamp strictly later than every stamp before it,
except `touch`, which gives a batch of purchases one identical stamp as Cin7 does live.

Time: the sandbox lives at `epoch_for(seed)` plus the time elapsed on `clock` since start-up,
so its data and its new stamps never depend on today's date.

Statistics: `calls` counts every request received under `/ExternalApi/` (answered, refused
with 403, rate limited or faulted alike); `rate_limited` counts those answered with the rate
limit (429 or 503), bursts included; `by_path` splits `calls` by endpoint (`purchaseList`,
`purchase`, ...); `faults` counts the injected faults by kind (`error`, `timeout`, `html`,
`burst`: calls refused inside a 429 burst). `by_key` gives, per application key that passed
authentication, its `calls`, the `rate_limited` ones (bursts aside) and `peak_in_window`, the
most calls it sent in any rolling `rate_window` seconds. `/_sandbox/` requests are never
counted.
"""

from __future__ import annotations

import functools
import math
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec, TypeVar

from ml_connector.sandbox.catalog import cin7_catalog
from ml_connector.sandbox.cin7 import lifecycle
from ml_connector.sandbox.cin7.formats import MILLISECOND, guid, parse_timestamp, stable_guid
from ml_connector.sandbox.cin7.generate import epoch_for, generate
from ml_connector.sandbox.cin7.ledger import entry
from ml_connector.sandbox.cin7.lifecycle import Env, keys
from ml_connector.sandbox.cin7.model import (
    ADVANCED,
    AUTHORISED,
    SERVICE,
    SIMPLE,
    Address,
    Cin7SandboxError,
    Contact,
    Invoice,
    Purchase,
    Supplier,
)
from ml_connector.sandbox.cin7.ratelimit import WINDOW_SECONDS, CallPeaks, RollingWindow, Verdict
from ml_connector.sandbox.cin7.reference import Reference
from ml_connector.sandbox.cin7.render import advanced_detail, list_row, simple_detail
from ml_connector.sandbox.cin7.tamper import Tampered, Tampering

Row = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[Cin7State, P], R],
) -> Callable[Concatenate[Cin7State, P], R]:
    """Serialise a public verb with the HTTP layer (the server may run in another thread)."""

    @functools.wraps(method)
    def wrapper(self: Cin7State, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass
class Faults:
    """Injected faults; rates are probabilities per API call, drawn from a seeded generator."""

    error_rate: float = 0.0  # 500 with an error array
    timeout_rate: float = 0.0  # sleep `timeout_seconds`, then answer normally
    html_rate: float = 0.0  # 200 with an HTML page
    timeout_seconds: float = 30.0
    rate_limit_per_minute: int = 60
    rate_limit_status: int = 429  # or 503, the older behaviour
    burst_rate: float = 0.0  # a call starts a burst: every call is rate limited for a while
    burst_seconds: float = 3.0  # how long a burst lasts (Retry-After says what is left)


def default_credentials(seed: int) -> tuple[str, str]:
    """The fake (account id, application key) a seed gives when none are chosen."""
    return stable_guid("cin7-account", seed), stable_guid("cin7-application-key", seed)


def _as_date(value: str | date | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    parsed = parse_timestamp(value)
    if parsed is None:
        raise Cin7SandboxError(f"'{field}' is not a valid date")
    return parsed.date()


class Cin7State:
    """Everything the sandbox holds. Built once by `create_cin7_sandbox`."""

    def __init__(
        self,
        *,
        seed: int = 7,
        suppliers: int = 40,
        purchases: int = 300,
        account_id: str | None = None,
        application_key: str | None = None,
        rate_limit: int = 60,
        rate_limit_status: int = 429,
        rate_window: float = WINDOW_SECONDS,
        clock: Callable[[], float],
    ) -> None:
        default_account, default_key = default_credentials(seed)
        self.seed = seed
        self.lock = threading.RLock()
        self.account_id = account_id or default_account
        self.application_key = application_key or default_key
        self.application_keys = {self.application_key}
        self.epoch = epoch_for(seed)
        self.ref = Reference(cin7_catalog(), self.epoch)
        self._clock = clock
        self._clock0 = clock()
        self._rng = random.Random(f"cin7-runtime:{seed}")
        self._fault_rng = random.Random(f"cin7-faults:{seed}")
        self.faults = Faults()
        self.limiter = RollingWindow(rate_limit, clock, rate_window)
        self.peaks = CallPeaks(clock, rate_window)
        self.rate_limited_by_key: Counter[str] = Counter()
        self.set_faults(rate_limit_per_minute=rate_limit, rate_limit_status=rate_limit_status)
        self.env = Env(self.ref, self._new_id, self.now)
        made = generate(seed, self.ref, suppliers, purchases, self.epoch)
        self._suppliers: dict[str, Supplier] = {s.id: s for s in made.suppliers}
        self.suppliers: list[Supplier] = sorted(made.suppliers, key=lambda s: s.name.lower())
        self.purchases: list[Purchase] = made.purchases  # ascending OrderNumber
        self._purchases: dict[str, Purchase] = {p.id: p for p in made.purchases}
        stamps = [p.updated for p in self.purchases] + [s.modified for s in self.suppliers]
        self._high_water = max(stamps, default=self.epoch - timedelta(days=1))
        self.tampered = Tampered()
        self._invoice_seq = 0
        self._credit_seq = sum(len(p.credits) for p in self.purchases)
        self.calls = 0
        self.rate_limited = 0
        self.by_path: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._burst_until = 0.0

    # --- time and identity -------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's current UTC time (naive)."""
        return self.epoch + timedelta(seconds=self._clock() - self._clock0)

    def _new_id(self) -> str:
        return guid(self._rng)

    def next_stamp(self) -> datetime:
        """A millisecond stamp later than every stamp handed out so far."""
        now = self.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._high_water = max(now, self._high_water + MILLISECOND)
        return self._high_water

    def mark_changed(self, p: Purchase, stamp: datetime | None = None) -> None:
        p.updated = stamp or self.next_stamp()
        p.cache.clear()

    # --- lookups ------------------------------------------------------------------------------

    def purchase_ids(self) -> list[str]:
        """Purchase IDs in OrderNumber order."""
        return [p.id for p in self.purchases]

    def lookup(self, purchase_id: str) -> Purchase | None:
        return self._purchases.get(str(purchase_id).strip().lower())

    def purchase(self, purchase_id: str) -> Purchase:
        """The purchase record, or a 404 sandbox error."""
        p = self.lookup(purchase_id)
        if p is None:
            raise Cin7SandboxError(f"Purchase with ID '{purchase_id}' not found", status=404)
        return p

    def find(self, order_number: str) -> Purchase | None:
        """The purchase with this OrderNumber (`PO-00042`), if any."""
        try:
            seq = int(order_number.upper().removeprefix("PO-"))
        except ValueError:
            return None
        if 1 <= seq <= len(self.purchases) and self.purchases[seq - 1].seq == seq:
            return self.purchases[seq - 1]
        return next((p for p in self.purchases if p.seq == seq), None)

    def supplier(self, supplier_id: str) -> Supplier | None:
        return self._suppliers.get(str(supplier_id).strip().lower())

    def supplier_by_name(self, name: str) -> Supplier | None:
        wanted = name.strip().lower()
        return next((s for s in self.suppliers if s.name.lower() == wanted), None)

    @_locked
    def detail(self, purchase_id: str) -> Row:
        """The purchase as its own endpoint shows it (`/purchase` for Simple,
        `/advanced-purchase` for Advanced), freshly rendered: the caller may change it."""
        p = self.purchase(purchase_id)
        return simple_detail(p, self.ref) if not p.advanced else advanced_detail(p, self.ref)

    def simple_doc(self, p: Purchase, *, combine: bool = False) -> Row:
        if combine:
            return simple_detail(p, self.ref, combine=True)
        if "simple" not in p.cache:
            p.cache["simple"] = simple_detail(p, self.ref)
        doc: Row = p.cache["simple"]
        return doc

    def advanced_doc(self, p: Purchase, *, combine: bool = False) -> Row:
        if combine:
            return advanced_detail(p, self.ref, combine=True)
        if "advanced" not in p.cache:
            p.cache["advanced"] = advanced_detail(p, self.ref)
        doc: Row = p.cache["advanced"]
        return doc

    def row(self, p: Purchase) -> Row:
        if "row" not in p.cache:
            p.cache["row"] = list_row(p)
        doc: Row = p.cache["row"]
        return doc

    def served_row(self, p: Purchase) -> Any:
        """The `purchaseList` row as the API serves it (planted changes included)."""
        return self.tampered.row(p.id, self.row(p))

    def served_detail(self, p: Purchase, document: Row) -> Any:
        """A detail document as the API serves it (planted changes or error included)."""
        return self.tampered.detail(p.id, document)

    # --- the sandbox verbs (mirrored by /_sandbox/) ----------------------------------------------

    @_locked
    def create_purchase(
        self,
        approach: str,
        lines: Sequence[Mapping[str, Any]],
        supplier_id: str | None = None,
        *,
        advanced: bool = False,
        location: str | None = None,
        freight: Decimal | float | str | None = None,
        service: bool = False,
        charges: Sequence[Mapping[str, Any]] | None = None,
    ) -> Row:
        """Create a purchase with an authorised order; `lines` are `{"sku", "quantity",
        "price"?, "discount"?}`; the price defaults to the catalogue cost in the supplier's
        currency. `service=True` makes a Service purchase: no lines, only `charges`
        (`{"description", "price", "account"?}`), invoice first. Returns the purchase as its
        detail endpoint shows it."""
        header: Row = {"Approach": approach, "Location": location}
        if supplier_id:
            header["SupplierID"] = supplier_id
        p = self.new_purchase(header, advanced=advanced, service=service)
        rows = [
            {
                "Description": c.get("description") or "Service",
                "Price": str(c.get("price") or 0),
                **({"Account": c["account"]} if c.get("account") else {}),
            }
            for c in charges or []
        ]
        if freight is not None:
            rows.append({"Description": "Freight", "Price": str(freight)})
        try:
            lifecycle.post_order(
                p,
                self.env,
                status=AUTHORISED,
                memo=None,
                lines=list(lines),
                charges=rows or None,
            )
        except Cin7SandboxError:
            self._forget(p)
            raise
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def receive(
        self,
        purchase_id: str,
        lines: Sequence[Mapping[str, Any]] | None = None,
        date: str | date | None = None,
        *,
        authorise: bool = True,
    ) -> Row:
        """Receive stock (all open quantity when `lines` is None), under the API's rules."""
        p = self.purchase(purchase_id)
        lifecycle.receive(p, self.env, lines, _as_date(date, "date"), authorise=authorise)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def invoice(
        self,
        purchase_id: str,
        invoice_number: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        *,
        date: str | date | None = None,
        authorise: bool = True,
    ) -> Row:
        """Invoice (and authorise) a purchase under the API's rules."""
        p = self.purchase(purchase_id)
        number = invoice_number or self._next_invoice_number(p)
        lifecycle.invoice(
            p, self.env, number=number, lines=lines, on=_as_date(date, "date"), authorise=authorise
        )
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def void(self, purchase_id: str) -> Row:
        p = self.purchase(purchase_id)
        lifecycle.void(p)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def edit(self, purchase_id: str, lines: Sequence[Mapping[str, Any]]) -> Row:
        """Replace the order lines (changed quantities, added lines), as a user's edit does."""
        p = self.purchase(purchase_id)
        lifecycle.edit_order(p, self.env, lines)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def pay(
        self,
        purchase_id: str,
        amount: Decimal | float | str | None = None,
        date: str | date | None = None,
    ) -> Row:
        """Record a payment: only `LastUpdatedDate` and payment fields change."""
        p = self.purchase(purchase_id)
        value = None if amount is None else lifecycle.decimal(amount, "amount")
        lifecycle.pay(p, self.env, value, _as_date(date, "date"))
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def credit(
        self,
        purchase_id: str,
        lines: Sequence[Mapping[str, Any]] | None = None,
        credit_note_number: str | None = None,
    ) -> Row:
        """An authorised credit note with the matching unstock."""
        p = self.purchase(purchase_id)
        self._credit_seq += 1
        number = credit_note_number or f"CR-{self._credit_seq:05d}"
        lifecycle.credit(p, self.env, number=number, supplier_ref="", lines=lines, on=None)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def convert(self, purchase_id: str) -> Row:
        """Convert a Simple purchase to Advanced (the live "type flip")."""
        p = self.purchase(purchase_id)
        lifecycle.convert(p)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def tamper(self, purchase_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Plant a malformed list row, detail or detail error on a purchase (see `tamper`);
        returns what is planted."""
        p = self.purchase(purchase_id)
        tampering = Tampering.parse(body)
        self.tampered.plant(p.id, tampering)
        self.mark_changed(p)
        return tampering.to_json()

    @_locked
    def untamper(self, purchase_id: str) -> Row:
        """Cin7 corrects the purchase: the planted changes go, with a new LastUpdatedDate."""
        p = self.purchase(purchase_id)
        if not self.tampered.clear(p.id):
            raise Cin7SandboxError(f"Purchase '{purchase_id}' has nothing planted", status=404)
        self.mark_changed(p)
        return self.detail(p.id)

    @_locked
    def touch(self, count: int) -> int:
        """Give the first `count` purchases (by OrderNumber) one identical new LastUpdatedDate;
        returns how many were touched."""
        if count < 0:
            raise Cin7SandboxError("'count' should not be negative")
        batch = self.purchases[:count]
        if batch:
            moment = self.next_stamp()
            for p in batch:
                self.mark_changed(p, moment)
        return len(batch)

    @_locked
    def ledger(self) -> list[dict[str, Any]]:
        """Every purchase by the sandbox's own books (see `ledger`), in OrderNumber order."""
        return [entry(p, tampered=p.id in self.tampered.by_id) for p in self.purchases]

    @_locked
    def stats(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "rate_limited": self.rate_limited,
            "by_path": dict(self.by_path),
            "faults": dict(sorted(self.injected.items())),
            "rate_window": self.limiter.window,
            "by_key": {
                key: {
                    "calls": calls,
                    "rate_limited": self.rate_limited_by_key[key],
                    "peak_in_window": self.peaks.peak[key],
                }
                for key, calls in sorted(self.peaks.calls.items())
            },
        }

    @_locked
    def reset_stats(self) -> None:
        self.calls = 0
        self.rate_limited = 0
        self.by_path.clear()
        self.injected.clear()
        self.peaks.reset()
        self.rate_limited_by_key.clear()

    @_locked
    def set_faults(self, /, **settings: Any) -> dict[str, Any]:
        """Change any of `error_rate`, `timeout_rate`, `html_rate`, `burst_rate` (0..1),
        `timeout_seconds`, `burst_seconds`, `rate_limit_per_minute` (>= 1) and
        `rate_limit_status` (429 or 503); returns them all."""
        current = asdict(self.faults)
        unknown = sorted(set(settings) - set(current))
        if unknown:
            raise Cin7SandboxError(f"Unknown fault setting(s): {', '.join(unknown)}")
        merged = {**current, **{k: v for k, v in settings.items() if v is not None}}
        try:
            faults = Faults(
                error_rate=float(merged["error_rate"]),
                timeout_rate=float(merged["timeout_rate"]),
                html_rate=float(merged["html_rate"]),
                timeout_seconds=float(merged["timeout_seconds"]),
                rate_limit_per_minute=int(merged["rate_limit_per_minute"]),
                rate_limit_status=int(merged["rate_limit_status"]),
                burst_rate=float(merged["burst_rate"]),
                burst_seconds=float(merged["burst_seconds"]),
            )
        except (TypeError, ValueError):
            raise Cin7SandboxError("Fault settings must be numbers") from None
        rates = (faults.error_rate, faults.timeout_rate, faults.html_rate, faults.burst_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise Cin7SandboxError("Fault rates must lie between 0 and 1 and add up to at most 1")
        if faults.timeout_seconds < 0 or faults.burst_seconds < 0:
            raise Cin7SandboxError("'timeout_seconds' and 'burst_seconds' must not be negative")
        if faults.rate_limit_per_minute < 1:
            raise Cin7SandboxError("'rate_limit_per_minute' must be at least 1")
        if faults.rate_limit_status not in (429, 503):
            raise Cin7SandboxError("'rate_limit_status' must be 429 or 503")
        self.faults = faults
        self.limiter.limit = faults.rate_limit_per_minute
        return asdict(faults)

    @_locked
    def add_application_key(self, key: str) -> None:
        """Accept a second API application key on the same account (it has its own budget)."""
        self.application_keys.add(key)

    # --- used by the HTTP layer ----------------------------------------------------------------

    def count_call(self, path: str) -> None:
        self.calls += 1
        self.by_path[path] += 1

    def admit(self, application_key: str) -> Verdict:
        self.peaks.hit(application_key)
        verdict = self.limiter.hit(application_key)
        if not verdict.allowed:
            self.rate_limited += 1
            self.rate_limited_by_key[application_key] += 1
        return verdict

    def draw_fault(self) -> str | None:
        """ "error", "timeout", "html", "burst" (rate limited: a burst is on) or None; counted
        in `faults`."""
        fault = self._draw()
        if fault is not None:
            self.injected[fault] += 1
            if fault == "burst":
                self.rate_limited += 1
        return fault

    def burst_left(self) -> int:
        """Whole seconds left of the current 429 burst (at least 1 while it lasts)."""
        return max(1, math.ceil(self._burst_until - self._clock()))

    def _draw(self) -> str | None:
        f = self.faults
        if self._burst_until > self._clock():
            return "burst"
        if not (f.error_rate or f.timeout_rate or f.html_rate or f.burst_rate):
            return None
        roll = self._fault_rng.random()
        for kind, rate in (
            ("error", f.error_rate),
            ("timeout", f.timeout_rate),
            ("html", f.html_rate),
            ("burst", f.burst_rate),
        ):
            if roll < rate:
                if kind == "burst":
                    self._burst_until = self._clock() + f.burst_seconds
                return kind
            roll -= rate
        return None

    def new_purchase(
        self, body: Mapping[str, Any], *, advanced: bool = False, service: bool = False
    ) -> Purchase:
        """`POST /purchase`: a header only (Status ORDERING, Order NOT AVAILABLE). A nested
        `Order` in the body is ignored, as live (§5.3). A Service purchase is always invoice
        first (§6.1)."""
        item = keys(body)
        if service:
            item["approach"] = "INVOICE"
        approach = str(item.get("approach") or "").upper()
        if approach not in ("INVOICE", "STOCK"):
            raise Cin7SandboxError("'Approach' is required and should be INVOICE or STOCK")
        s = None
        if item.get("supplierid"):
            s = self.supplier(str(item["supplierid"]))
            if s is None:
                raise Cin7SandboxError(f"Supplier with ID '{item['supplierid']}' not found")
        elif item.get("supplier"):
            s = self.supplier_by_name(str(item["supplier"]))
            if s is None:
                raise Cin7SandboxError(f"Supplier '{item['supplier']}' not found")
        else:
            s = next((x for x in self.suppliers if x.status == "Active"), self.suppliers[0])
        location = str(item.get("location") or self.ref.default_location.name)
        loc = self.ref.location(location)
        if loc is None:
            raise Cin7SandboxError(
                f"Location '{location}' was not found in Locations reference book"
            )
        tax_rule = str(item.get("taxrule") or s.tax_rule)
        if tax_rule.lower() not in self.ref.tax_by_name:
            raise Cin7SandboxError(f"Tax rule '{tax_rule}' not found")
        terms = str(item.get("terms") or s.payment_term)
        if terms.lower() not in self.ref.term_by_name:
            raise Cin7SandboxError(f"Payment term '{terms}' not found")
        contact = s.default_contact()
        rate = item.get("currencyrate")
        seq = (self.purchases[-1].seq if self.purchases else 0) + 1
        p = Purchase(
            id=self._new_id(),
            seq=seq,
            type=SERVICE if service else ADVANCED if advanced else SIMPLE,
            approach=approach,
            supplier_id=s.id,
            supplier_name=s.name,
            contact=str(item.get("contact") or (contact.name if contact else "")),
            phone=str(item.get("phone") or (contact.phone if contact else "")),
            billing=s.address("Billing"),
            currency=s.currency,
            currency_rate=lifecycle.decimal(
                rate, "CurrencyRate", default=self.ref.rate(s.currency)
            ),
            tax_rule=self.ref.tax_by_name[tax_rule.lower()].rule.name,
            terms=self.ref.term_by_name[terms.lower()].term.name,
            location=loc.name,
            order_date=self.now().date(),
            updated=self.epoch,
            required_by=lifecycle.a_date(item.get("requiredby"), "RequiredBy"),
            note=str(item.get("note") or ""),
            base_currency=self.ref.base_currency,
        )
        if not advanced and not service:
            # The APIB's POST example answers with a DRAFT invoice (§5.3).
            p.group().invoice = Invoice(invoice_number="", status="DRAFT")
        self.purchases.append(p)
        self._purchases[p.id] = p
        self.mark_changed(p)
        return p

    def _forget(self, p: Purchase) -> None:
        self.purchases.remove(p)
        del self._purchases[p.id]

    def update_purchase(self, body: Mapping[str, Any]) -> Purchase:
        """`PUT /purchase`: header fields only."""
        item = keys(body)
        p = self.lookup(str(item.get("id") or ""))
        if p is None:
            raise Cin7SandboxError("Purchase with specified ID not found")
        lifecycle.require_simple(p)
        lifecycle.require_open(p)
        if "location" in item:
            loc = self.ref.location(str(item["location"]))
            if loc is None:
                raise Cin7SandboxError(
                    f"Location '{item['location']}' was not found in Locations reference book"
                )
            p.location = loc.name
        if "terms" in item:
            term = self.ref.term_by_name.get(str(item["terms"]).lower())
            if term is None:
                raise Cin7SandboxError(f"Payment term '{item['terms']}' not found")
            p.terms = term.term.name
        for field in ("note", "contact", "phone"):
            if field in item:
                setattr(p, field, str(item[field] or ""))
        if "requiredby" in item:
            p.required_by = lifecycle.a_date(item["requiredby"], "RequiredBy")
        self.mark_changed(p)
        return p

    def _next_invoice_number(self, p: Purchase) -> str:
        self._invoice_seq += 1
        s = self.supplier(p.supplier_id)
        code = s.code if s else "SUP"
        return f"{code}-SBX-{self._invoice_seq:05d}"

    # --- suppliers -----------------------------------------------------------------------------

    def save_supplier(self, body: Mapping[str, Any], *, create: bool) -> Supplier:
        """`POST /supplier` (create) or `PUT /supplier` (update by `ID`). Addresses and contacts
        with an `ID` are updated, those without are created (§5.1)."""
        item = keys(body)
        if create:
            name = str(item.get("name") or "").strip()
            if not name:
                raise Cin7SandboxError("'Name' is required")
            if self.supplier_by_name(name):
                raise Cin7SandboxError(f"Supplier with name '{name}' already exists")
            if not item.get("currency"):
                raise Cin7SandboxError("'Currency' is required")
            s = Supplier(
                id=self._new_id(),
                name=name,
                currency="USD",
                payment_term=self.ref.terms[0].term.name,
                tax_rule=self.ref.tax_rules[0].rule.name,
                modified=self.epoch,
                code=name[:3].upper(),
            )
        else:
            found = self.supplier(str(item.get("id") or ""))
            if found is None:
                raise Cin7SandboxError("Supplier with specified ID not found")
            s = found
            if "name" in item:
                other = self.supplier_by_name(str(item["name"]))
                if not str(item["name"]).strip() or (other and other is not s):
                    raise Cin7SandboxError(f"Supplier name '{item['name']}' is invalid or taken")
        self._apply_supplier(s, item)
        s.modified = self.next_stamp()
        if create:
            self._suppliers[s.id] = s
            self.suppliers.append(s)
        self.suppliers.sort(key=lambda x: x.name.lower())
        return s

    def _apply_supplier(self, s: Supplier, item: dict[str, Any]) -> None:
        checks: list[tuple[str, Iterable[str], str]] = [
            ("currency", self.ref.currencies, "Currency"),
            ("paymentterm", (t.term.name for t in self.ref.terms), "PaymentTerm"),
            ("taxrule", (t.rule.name for t in self.ref.tax_rules), "TaxRule"),
            ("accountpayable", (a.code for a in self.ref.accounts), "AccountPayable"),
            ("status", ("Active", "Deprecated"), "Status"),
        ]
        values: dict[str, str] = {}
        for key, allowed, label in checks:
            if item.get(key) is None:
                continue
            wanted = str(item[key])
            match = next((a for a in allowed if a.lower() == wanted.lower()), None)
            if match is None:
                raise Cin7SandboxError(f"'{label}' value '{wanted}' is not valid")
            values[key] = match
        s.currency = values.get("currency", s.currency)
        s.payment_term = values.get("paymentterm", s.payment_term)
        s.tax_rule = values.get("taxrule", s.tax_rule)
        s.account_payable = values.get("accountpayable", s.account_payable)
        s.status = values.get("status", s.status)
        if "name" in item:
            s.name = str(item["name"]).strip()
        if "discount" in item:
            s.discount = lifecycle.decimal(item["discount"], "Discount", default=Decimal(0))
        for key, attr in (
            ("comments", "comments"),
            ("taxnumber", "tax_number"),
            ("attributeset", "attribute_set"),
        ):
            if key in item:
                setattr(s, attr, None if item[key] is None else str(item[key]))
        for index in range(10):
            key = f"additionalattribute{index + 1}"
            if key in item:
                s.attributes[index] = None if item[key] is None else str(item[key])
        for raw in item.get("addresses") or []:
            self._upsert_address(s, keys(raw))
        for raw in item.get("contacts") or []:
            self._upsert_contact(s, keys(raw))

    def _upsert_address(self, s: Supplier, a: dict[str, Any]) -> None:
        target = next(
            (x for x in s.addresses if a.get("id") and x.id == str(a["id"]).lower()), None
        )
        if target is None:
            target = Address(self._new_id(), "", "", "", "", "", "", "Business")
            s.addresses.append(target)
        for key, attr in (
            ("line1", "line1"),
            ("line2", "line2"),
            ("city", "city"),
            ("state", "state"),
            ("postcode", "postcode"),
            ("country", "country"),
            ("type", "type"),
        ):
            if key in a:
                setattr(target, attr, str(a[key] or ""))
        if "defaultfortype" in a:
            target.default_for_type = bool(a["defaultfortype"])

    def _upsert_contact(self, s: Supplier, c: dict[str, Any]) -> None:
        target = next((x for x in s.contacts if c.get("id") and x.id == str(c["id"]).lower()), None)
        if target is None:
            target = Contact(self._new_id(), "", "", "", "", default=not s.contacts)
            s.contacts.append(target)
        for key, attr in (
            ("name", "name"),
            ("phone", "phone"),
            ("mobilephone", "mobile"),
            ("email", "email"),
            ("fax", "fax"),
        ):
            if key in c:
                setattr(target, attr, str(c[key] or ""))
        for key, attr in (("website", "website"), ("comment", "comment")):
            if key in c:
                setattr(target, attr, None if c[key] is None else str(c[key]))
        if "default" in c:
            target.default = bool(c["default"])
        if "includeinemail" in c:
            target.include_in_email = bool(c["includeinemail"])
