"""The idempotent QAD operations the engine posts with, written once above any channel.

Every create is preceded by a look-up of its natural key, and every write whose answer was lost
(`WriteOutcomeUnknown`) is settled by reading back, never by posting again blindly:

| operation | natural key | lost answer / "already exists" |
|---|---|---|
| `ensure_supplier` | supplier code (business relation first) | read back, compare, update |
| `ensure_purchase_order` | PO number, line number | read back, compare, update lines |
| `close_purchase_order` | PO number | read back, compare |
| `post_receipt_once` | PO + packing slip | read receivers by slip and the PO's quantities |
| `ensure_supplier_invoice` | supplier + reference + type + PO | search before and after posting |
| `ensure_item` | item code | read back |

`adoptable_purchase_order`, `adoptable_receipt` and `adoptable_invoice` answer the go-live
question "did finance already key this document by hand?" (`Adoption`): a PO by its number; a
receipt by comparing QAD's received quantity per PO line with what ml-connector itself has
recorded (QAD may hold goods nobody posted through us: adopt up to that, never receive them a
second time; a partial match is a conflict with both figures); an invoice by supplier +
reference + type + PO, the same search `ensure_supplier_invoice` runs before creating.

`look_up` answers the engine's question after a crash — "does QAD hold the document this
intent was about?" — with the same natural-key searches the operations use before they create.

Usage::

    async with RestChannel(settings) as channel:
        qad = QadOperations(channel)
        await qad.ensure_supplier(SupplierSpec(code="S1001", name="Acme", currency="USD",
                                               credit_terms="N30"))

Receipts assume one receipt per PO at a time (the engine posts a purchase's receipts in order):
the silent no-op check compares the PO's received quantities before and after.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from ml_connector import backoff
from ml_connector.backoff import Sleep
from ml_connector.errors import (
    AlreadyExists,
    NotFound,
    RecordRejected,
    StaleRecord,
    Unavailable,
    WriteOutcomeUnknown,
)
from ml_connector.qad import compare
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.models import (
    InvoiceResult,
    InvoiceSpec,
    InvoiceType,
    Item,
    ItemSpec,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderResult,
    PurchaseOrderSpec,
    Receipt,
    ReceiptResult,
    ReceiptSpec,
    SupplierInvoice,
    SupplierResult,
    SupplierSpec,
)

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
FINISHED_BY_OPERATION = frozenset({"create_po"})
"""Posting kinds `look_up` cannot settle: QAD may hold part of the document (a PO header with
some of its lines), so an intent for one is finished by running its operation again."""
RECEIPT_ATTEMPTS = 3
LOOK_UP_REUSE_S = 30.0
"""How long a look-up's answer stands in for the read the next operation on the same document
would make (`QadOperations._note_look_up`)."""

Held = TypeVar("Held")
Change = TypeVar("Change")


@dataclass(frozen=True)
class Adoption:
    """What a look-up before a create found in QAD, keyed there by hand.

    `qad_id` is what to record the document as posted under; `found` is what QAD holds, for the
    `adopted` trail event. `conflict` (with `qad_id` None) says QAD holds part of the document
    only, in words giving both figures: a person must settle it; nothing is posted.
    """

    qad_id: str | None
    found: dict[str, Any] = field(default_factory=dict)
    conflict: str | None = None


class QadOperations:
    """Idempotent posting over one `QadChannel` (see module docstring).

    `sleep` and `rng` pace the second look after a lost answer; tests pass a sleep that
    returns at once; `clock` times how long a look-up's answer may be reused.

    The engine asks the adoption question right before it posts (`adoptable_purchase_order`,
    then `ensure_purchase_order`; `adoptable_receipt`, then `post_receipt_once`;
    `adoptable_invoice`, then `ensure_supplier_invoice`), so the second operation's first read
    would repeat the first's. The answer is kept for the next operation on that document only,
    once, for at most `LOOK_UP_REUSE_S`, and only when it said to post: a PO found absent goes
    straight to its create, which QAD refuses with "already exists" should one have appeared
    since (the create then reads it like any other); a PO's received quantities become the
    receipt's baseline; an invoice found absent by supplier + reference + type + PO is the
    search before its create. Any other operation on the PO drops what was kept for it. The
    operations live as long as their engine: one pass.
    """

    def __init__(
        self,
        channel: QadChannel,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._looked_up: dict[tuple[str, ...], tuple[float, PurchaseOrder | None]] = {}

    def __repr__(self) -> str:
        return f"<QadOperations over {self.channel!r}>"

    def _note_look_up(self, key: tuple[str, ...], po: PurchaseOrder | None) -> None:
        """Keep what a look-up found for `key` for the next operation on it (see class)."""
        if len(self._looked_up) >= 1024:  # never consumed (nothing posted): drop them all
            self._looked_up.clear()
        self._looked_up[key] = (self._clock(), po)

    def _reuse_look_up(self, key: tuple[str, ...]) -> tuple[bool, PurchaseOrder | None]:
        """(True, what was found) when a fresh look-up of `key` is kept; forgets it either way."""
        kept = self._looked_up.pop(key, None)
        if kept is None or self._clock() - kept[0] > LOOK_UP_REUSE_S:
            return False, None
        return True, kept[1]

    # ---- suppliers ----------------------------------------------------------------------------

    async def ensure_supplier(self, spec: SupplierSpec) -> SupplierResult:
        """Make QAD hold `spec`: look up, create (business relation first), or update.

        Name, currency and credit terms that differ are updated. Returns whether this call
        created or updated the supplier.
        """
        channel = self.channel
        maybe_ours = False
        for _ in range(WRITE_ATTEMPTS):
            held = await channel.get_supplier(spec.code)
            if held is not None:
                updated = await self._settle(
                    held,
                    lambda s: compare.supplier_change(spec, s),
                    channel.update_supplier,
                    lambda: channel.get_supplier(spec.code),
                    f"supplier {spec.code}",
                )
                return SupplierResult(code=spec.code, created=maybe_ours, updated=updated)
            await self._ensure_business_relation(spec)
            try:
                await channel.create_supplier(spec)
            except WriteOutcomeUnknown:
                maybe_ours = True
                continue
            except AlreadyExists:
                continue
            return SupplierResult(code=spec.code, created=True)
        raise Unavailable(f"supplier {spec.code}: QAD gave no usable answer", system="qad")

    async def _ensure_business_relation(self, spec: SupplierSpec) -> None:
        code = spec.relation_code
        for _ in range(WRITE_ATTEMPTS):
            if await self.channel.has_business_relation(code):
                return
            try:
                await self.channel.create_business_relation(spec)
            except WriteOutcomeUnknown:
                continue
            except AlreadyExists:
                return
            return
        raise Unavailable(f"business relation {code}: QAD gave no usable answer", system="qad")

    # ---- purchase orders ----------------------------------------------------------------------

    async def _read_po(self, number: str) -> PurchaseOrder:
        po = await self.channel.get_purchase_order(number)
        if po is None:
            raise NotFound(f"PO {number} does not exist in QAD", system="qad")
        return po

    async def close_purchase_order(self, number: str) -> PurchaseOrder:
        """Close the PO (status C); closing a closed PO changes nothing."""
        self._looked_up.pop(("po", number), None)
        held = await self._read_po(number)
        await self._settle(
            held,
            compare.close_change,
            self.channel.update_po_header,
            lambda: self.channel.get_purchase_order(number),
            f"PO {number}",
        )
        return await self._read_po(number)

    async def ensure_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrderResult:
        """Make QAD hold the PO as `spec` says, under our own PO number.

        Creates the header (or reads it back on "already exists" and updates remarks, due date
        and credit terms), adds missing lines, updates quantity/cost on lines that differ, and
        closes open lines the spec no longer has. A PO number held by another supplier, or a
        line holding another item, raises `RecordRejected`.
        """
        po, created = await self._ensure_po_header(spec)
        header_updated = False
        if not created:
            conflicts = compare.po_header_conflicts(spec, po)
            if conflicts:
                raise RecordRejected(
                    f"PO {spec.number} already exists in QAD for a different order: "
                    + ", ".join(conflicts),
                    system="qad",
                    code="conflict",
                )
            header_updated = await self._settle(
                po,
                lambda p: compare.po_header_change(spec, p),
                self.channel.update_po_header,
                lambda: self.channel.get_purchase_order(spec.number),
                f"PO {spec.number}",
            )
            if header_updated:
                po = await self._read_po(spec.number)
        existing = {line.line: line for line in po.lines}
        if po.status == "C":
            # A closed PO closed its lines too: it matches when nothing else differs.
            if any(
                line.line not in existing
                or compare.line_change(existing[line.line], line, reopen=False)
                for line in spec.lines
            ):
                raise RecordRejected(
                    f"PO {spec.number} is closed in QAD", system="qad", code="closed"
                )
            return _po_result(po, created=False, header_updated=header_updated)
        # A channel that creates a PO with its lines (one QXtend QDoc) has added them already.
        added: list[int] = sorted(existing) if created else []
        updated: list[int] = []
        closed: list[int] = []
        for line in spec.lines:
            held = existing.get(line.line)
            if held is None:
                if await self._add_line(spec, line):
                    added.append(line.line)
                    continue
                held = (await self._read_po(spec.number)).line(line.line)
                if held is None:
                    raise Unavailable(
                        f"PO {spec.number} line {line.line}: added but not found", system="qad"
                    )
            if await self._sync_line(spec.number, line, held):
                updated.append(line.line)
        wanted = {line.line for line in spec.lines}
        for number, held in existing.items():
            if number in wanted or not held.is_open:
                continue
            if await self._set_line(spec.number, held, compare.line_close_change):
                closed.append(number)
        if header_updated or added or updated or closed or created:
            po = await self._read_po(spec.number)
        return _po_result(
            po,
            created=created,
            header_updated=header_updated,
            lines_added=added,
            lines_updated=updated,
            lines_closed=closed,
        )

    async def _ensure_po_header(self, spec: PurchaseOrderSpec) -> tuple[PurchaseOrder, bool]:
        maybe_ours = False
        kept, held = self._reuse_look_up(("po", spec.number))
        known_absent = kept and held is None
        for _ in range(WRITE_ATTEMPTS):
            if not known_absent:
                held = await self.channel.get_purchase_order(spec.number)
            known_absent = False
            if held is not None:
                return held, maybe_ours and not held.lines
            try:
                saved = await self.channel.create_purchase_order(spec)
            except WriteOutcomeUnknown:
                maybe_ours = True
                continue
            except AlreadyExists:
                continue
            if saved is not None and saved.number == spec.number:
                return saved, True
            return await self._read_po(spec.number), True
        raise Unavailable(f"PO {spec.number}: QAD gave no usable answer", system="qad")

    async def _add_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> bool:
        """Add one line; False when it turned out to exist already."""
        for _ in range(WRITE_ATTEMPTS):
            try:
                await self.channel.add_po_line(spec, line)
            except WriteOutcomeUnknown:
                if (await self._read_po(spec.number)).line(line.line) is not None:
                    return True
                continue
            except AlreadyExists:
                return False
            return True
        raise Unavailable(
            f"PO {spec.number} line {line.line}: QAD gave no usable answer", system="qad"
        )

    async def _sync_line(self, number: str, line: PurchaseOrderLineSpec, held: PoLine) -> bool:
        if held.item_code != line.item_code:
            raise RecordRejected(
                f"PO {number} line {line.line} holds item {held.item_code} in QAD, "
                f"not {line.item_code}",
                system="qad",
                code="conflict",
            )
        return await self._set_line(number, held, lambda h: compare.line_change(h, line))

    async def _set_line(
        self, number: str, held: PoLine, diff: Callable[[PoLine], PoLineChange | None]
    ) -> bool:
        async def reread() -> PoLine | None:
            return (await self._read_po(number)).line(held.line)

        async def write(current: PoLine, change: PoLineChange) -> None:
            await self.channel.update_po_line(number, current, change)

        return await self._settle(held, diff, write, reread, f"PO {number} line {held.line}")

    # ---- receipts -----------------------------------------------------------------------------

    async def existing_receipts(self, po_number: str, packing_slip: str) -> list[Receipt]:
        """The receivers QAD holds for this PO and packing slip (the receipt's natural key)."""
        return await self.channel.find_receipts(po_number, packing_slip)

    async def post_receipt_once(self, spec: ReceiptSpec) -> ReceiptResult:
        """Post a goods receipt exactly once, keyed by PO + packing slip.

        1. A receiver with this packing slip already exists → return it (`created=False`).
        2. Post, then read back the receivers by packing slip and the PO's received quantities.
        3. QAD's silent no-op (success, nothing posted) shows as no receiver and unchanged
           quantities: post again, at most `RECEIPT_ATTEMPTS` times in all.
        4. A lost answer (timeout, 5xx after the POST) is settled by the same read-back, looked
           at twice with a pause, never by posting blindly.
        5. A refusal is read back too: when the receiver is there after all (an error that
           posted), it is returned; otherwise QAD's refusal is raised.
        `verified` is True when the receiver holds the quantities asked for and the PO lines
        rose by them.
        """
        what = f"receipt for PO {spec.po_number} packing slip {spec.packing_slip}"
        kept, po = self._reuse_look_up(("po", spec.po_number))
        if kept and po is not None:
            existing = await self.existing_receipts(spec.po_number, spec.packing_slip)
            baseline = compare.received(po)
        else:
            existing, baseline = await self._receipt_state(spec)
        if existing:
            return ReceiptResult(
                receiver_number=existing[0].receiver_number,
                created=False,
                verified=compare.receipts_cover(existing, spec),
            )
        claimed: str | None = None
        lost_answers = 0
        for attempt in range(1, RECEIPT_ATTEMPTS + 1):
            lost = False
            refusal: RecordRejected | None = None
            try:
                claimed = await self.channel.post_receipt(spec) or claimed
            except WriteOutcomeUnknown:
                lost = True
                lost_answers += 1
            except RecordRejected as exc:
                refusal = exc
            checks = 2 if lost else 1
            for check in range(checks):
                if check:
                    await self._sleep(backoff.QAD.delay(attempt + 1, self._rng))
                found, now = await self._receipt_state(spec)
                moved = compare.raised(baseline, now, spec)
                if refusal is not None and (found or moved != "none"):
                    log.warning("%s: QAD refused it but recorded it (%s)", what, refusal.message)
                if found:
                    return ReceiptResult(
                        receiver_number=found[0].receiver_number,
                        created=True,
                        verified=compare.receipts_cover(found, spec) and moved == "exact",
                        attempts=attempt,
                    )
                if moved != "none":
                    # Quantity moved but no receiver carries our slip: posting again could
                    # receive twice, so report what QAD said and leave it unverified.
                    return ReceiptResult(
                        receiver_number=claimed or "",
                        created=True,
                        verified=False,
                        attempts=attempt,
                    )
            if refusal is not None:
                raise refusal
        if lost_answers:
            raise Unavailable(
                f"{what}: nothing recorded after {RECEIPT_ATTEMPTS} posts "
                f"({lost_answers} answers lost)",
                system="qad",
            )
        raise Unavailable(
            f"{what}: QAD reported success {RECEIPT_ATTEMPTS} times but recorded nothing",
            system="qad",
            code="silent-no-op",
        )

    async def _receipt_state(self, spec: ReceiptSpec) -> tuple[list[Receipt], dict[int, Decimal]]:
        found, po = await asyncio.gather(
            self.existing_receipts(spec.po_number, spec.packing_slip),
            self._read_po(spec.po_number),
        )
        return found, compare.received(po)

    # ---- supplier invoices --------------------------------------------------------------------

    async def existing_invoice(
        self,
        supplier_code: str,
        reference: str,
        invoice_type: InvoiceType,
        po_number: str | None = None,
        description: str = "",
    ) -> SupplierInvoice | None:
        """The invoice QAD holds for this purchase: supplier + reference + type + PO.

        One supplier invoice number may be on several purchases (one paper invoice split
        across POs); each has its own QAD invoice, so another PO's invoice is never taken for
        this one (see `SupplierInvoice.belongs_to`).
        """
        found = await self.channel.find_supplier_invoices(supplier_code, reference, invoice_type)
        return next((inv for inv in found if inv.belongs_to(po_number, description)), None)

    async def ensure_supplier_invoice(self, spec: InvoiceSpec) -> InvoiceResult:
        """Create the invoice unless QAD holds it already (supplier, reference, type and PO).

        QAD accepts a duplicate reference with only a warning, so the search comes first and
        a lost answer is settled by searching again. A refused three-way match raises
        `RecordRejected` with QAD's message.
        """
        po = spec.po_numbers[0] if spec.po_numbers else ""

        async def existing() -> SupplierInvoice | None:
            return await self.existing_invoice(
                spec.supplier_code, spec.reference, spec.type, po, spec.description
            )

        searched, _ = self._reuse_look_up(
            _invoice_key(spec.supplier_code, spec.reference, spec.type, po, spec.description)
        )
        found = None if searched else await existing()
        if found is not None:
            return _invoice_result(found, created=False)
        what = f"invoice {spec.reference} of supplier {spec.supplier_code}"
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                created = await self.channel.create_supplier_invoice(spec)
            except WriteOutcomeUnknown:
                for check in range(2):
                    if check:
                        await self._sleep(backoff.QAD.delay(attempt + 1, self._rng))
                    found = await existing()
                    if found is not None:
                        return _invoice_result(found, created=True)
                continue
            invoice = created.invoice or await existing()
            if invoice is None:
                raise Unavailable(f"{what}: QAD saved it but returned no voucher", system="qad")
            return _invoice_result(invoice, created=True, warnings=created.warnings)
        raise Unavailable(f"{what}: QAD gave no usable answer", system="qad")

    # ---- items --------------------------------------------------------------------------------

    async def ensure_item(self, spec: ItemSpec) -> Item:
        """Create an item master record; an existing item with this code is returned as is."""
        for _ in range(WRITE_ATTEMPTS):
            item = await self.channel.get_item(spec.code)
            if item is not None:
                return item
            try:
                await self.channel.create_item(spec)
            except (WriteOutcomeUnknown, AlreadyExists):
                continue
        item = await self.channel.get_item(spec.code)
        if item is None:
            raise Unavailable(f"item {spec.code}: QAD gave no usable answer", system="qad")
        return item

    # ---- adoption (go-live) ---------------------------------------------------------------

    async def adoptable_purchase_order(self, number: str) -> Adoption | None:
        """The PO QAD holds under `number` (keyed by hand before go-live), or None."""
        po = await self.channel.get_purchase_order(number)
        if po is None:
            self._note_look_up(("po", number), None)
            return None
        self._looked_up.pop(("po", number), None)
        return Adoption(
            po.number,
            {
                "po_number": po.number,
                "supplier_code": po.supplier_code,
                "status": po.status,
                "lines": [
                    {
                        "line": line.line,
                        "item": line.item_code,
                        "ordered": str(line.quantity_ordered),
                        "received": str(line.quantity_received),
                    }
                    for line in po.lines
                ],
            },
        )

    async def adoptable_receipt(
        self,
        po_number: str,
        wanted: Mapping[int, Decimal],
        recorded: Mapping[int, Decimal],
        *,
        ours: bool = False,
    ) -> Adoption | None:
        """Whether QAD already holds the goods of a receipt: `wanted` is the receipt's quantity
        per PO line, `recorded` what ml-connector has recorded as received on each line so far.

        None when QAD holds nothing beyond `recorded` on those lines (post the receipt); an
        adoption when QAD's extra covers the receipt on every line; a conflict otherwise.
        `ours` says ml-connector itself sent this receipt before (its answer lost): the extra
        may be its own, so the conflict does not call it keyed by hand.
        """
        self._looked_up.pop(("po", po_number), None)
        po = await self.channel.get_purchase_order(po_number)
        if po is None:
            return None
        extra = {
            n: (line.quantity_received if (line := po.line(n)) else Decimal(0))
            - recorded.get(n, Decimal(0))
            for n in wanted
        }
        if all(value <= 0 for value in extra.values()):
            self._note_look_up(("po", po_number), po)
            return None
        figures = [
            {"line": n, "received_in_qad": str(extra[n]), "in_cin7": str(q)}
            for n, q in sorted(wanted.items())
        ]
        if all(extra[n] >= q for n, q in wanted.items()):
            receivers = await self.channel.find_receipts(po_number)
            qad_id = ",".join(r.receiver_number for r in receivers) or f"{po_number} by hand"
            return Adoption(qad_id, {"po_number": po_number, "lines": figures})
        extra_is = "beyond what ml-connector recorded" if ours else "by hand"
        shown = "; ".join(
            f"line {f['line']}: received in QAD {extra_is} {f['received_in_qad']}, "
            f"this Cin7 receipt {f['in_cin7']}"
            for f in figures
        )
        return Adoption(
            None, {"po_number": po_number, "lines": figures}, f"PO {po_number}: {shown}"
        )

    async def adoptable_invoice(
        self,
        supplier_code: str,
        reference: str,
        invoice_type: InvoiceType,
        po_number: str | None,
        description: str = "",
    ) -> Adoption | None:
        """The invoice QAD holds for supplier + reference + type + PO, or None."""
        found = await self.existing_invoice(
            supplier_code, reference, invoice_type, po_number, description
        )
        if found is None:
            if po_number is not None:
                key = _invoice_key(supplier_code, reference, invoice_type, po_number, description)
                self._note_look_up(key, None)
            return None
        return Adoption(
            str(found.voucher),
            {
                "voucher": found.voucher,
                "supplier_code": found.supplier_code,
                "reference": found.reference,
                "amount": str(found.amount),
                "po_numbers": list(found.po_numbers),
            },
        )

    # ---- after a crash ------------------------------------------------------------------------

    async def look_up(self, kind: str, lookup: Mapping[str, Any]) -> str | None:
        """The QAD id of the document an intent was about, if QAD holds it; else None.

        `kind` is the posting kind and `lookup` its natural key as the engine stored it with
        the intent. A PO is never looked up (None, and in `FINISHED_BY_OPERATION`): it may
        exist with only some of its lines, and `ensure_purchase_order` finds it and completes it.
        """
        if kind in ("receipt", "reverse_receipt"):
            receipts = await self.existing_receipts(lookup["po_number"], lookup["packing_slip"])
            return receipts[0].receiver_number if receipts else None
        if kind in ("invoice", "credit_note"):
            invoice = await self.existing_invoice(
                lookup["supplier_code"],
                lookup["reference"],
                "CreditNote" if kind == "credit_note" else "Invoice",
                lookup.get("po_number"),
                lookup.get("description", ""),
            )
            return str(invoice.voucher) if invoice else None
        if kind == "supplier":
            supplier = await self.channel.get_supplier(lookup["code"])
            return supplier.code if supplier else None
        if kind == "item":
            item = await self.channel.get_item(lookup["code"])
            return item.code if item else None
        return None

    # ---- shared -------------------------------------------------------------------------------

    async def _settle(
        self,
        held: Held | None,
        diff: Callable[[Held], Change | None],
        write: Callable[[Held, Change], Awaitable[None]],
        reread: Callable[[], Awaitable[Held | None]],
        what: str,
    ) -> bool:
        """Bring the record in line with `diff` through updates; True if anything changed.

        A stale revision or a lost answer re-reads the record and compares again, so an update
        that did land is not sent twice.
        """
        changed = False
        for _ in range(WRITE_ATTEMPTS):
            if held is None:
                raise NotFound(f"{what} disappeared from QAD while updating it", system="qad")
            change = diff(held)
            if change is None:
                return changed
            try:
                await write(held, change)
            except WriteOutcomeUnknown:
                changed = True
                held = await reread()
                continue
            except StaleRecord:
                held = await reread()
                continue
            return True
        raise Unavailable(f"{what}: update did not settle", system="qad")


def _invoice_key(
    supplier_code: str, reference: str, invoice_type: str, po_number: str, description: str
) -> tuple[str, ...]:
    return ("invoice", supplier_code, reference, invoice_type, po_number, description)


def _po_result(
    po: PurchaseOrder,
    *,
    created: bool,
    header_updated: bool,
    lines_added: list[int] | None = None,
    lines_updated: list[int] | None = None,
    lines_closed: list[int] | None = None,
) -> PurchaseOrderResult:
    return PurchaseOrderResult(
        number=po.number,
        created=created,
        header_updated=header_updated,
        lines_added=lines_added or [],
        lines_updated=lines_updated or [],
        lines_closed=lines_closed or [],
        status=po.status,
        lines=po.lines,
    )


def _invoice_result(
    invoice: SupplierInvoice, *, created: bool, warnings: list[Any] | None = None
) -> InvoiceResult:
    return InvoiceResult(
        voucher=invoice.voucher,
        created=created,
        matching_status=invoice.matching_status,
        warnings=list(warnings or []),
        posting_year=invoice.posting_year or None,
        daybook=invoice.daybook,
        status_code=invoice.status_code,
        matched=invoice.matched,
    )
