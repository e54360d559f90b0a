"""The sync engine: poll Cin7, stage snapshots, plan, post to QAD in order, keep the trail.

One pass (`SyncEngine.sync`):

1. Resolve intents left without an outcome by a crash: look in QAD for the natural key; found →
   recorded as posted, not found → dropped so the plan runs it again (its QAD call looks first).
   A PO intent stays open: QAD may hold its header with only some lines, which no look-up can
   call posted; the plan's next `CreatePurchaseOrder` finds it and adds what is missing.
2. Poll suppliers (`ModifiedSince`) and purchases (`UpdatedSince`, overlap, `(ID, stamp)`
   dedup); each new version is staged as a snapshot in its own short transaction and queued.
3. Workers plan each queued record (pure `plan`) and post its actions in dependency order, an
   *intent* before every QAD call and an *outcome* after; a record whose receipts just posted is
   planned again at once, so held invoices are released in the same pass.
4. Records still needing work (held, blocked, pending) are re-planned every pass: a mapping added
   since, or a receipt posted since, lets them through. So is a record that failed by an internal
   error (a defect, or our own database refusing a write, as when two passes once overlapped):
   every QAD create looks for its natural key first, so it heals without posting twice. A record
   QAD refused stays failed until someone fixes the cause and replays it.
5. The cursors advance only once the whole poll pass is staged.

Failure classes (design.md): a record error (QAD validation, malformed payload, unmapped
reference) fails or blocks that record and the pass goes on; a transient error that outlasts the
clients' own retries leaves the record pending for the next pass; an auth error marks the
connection unhealthy and stops the pass cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from ml_connector.cin7.incremental import DEFAULT_OVERLAP, IncrementalScan
from ml_connector.cin7.models import Purchase, PurchaseListRow, Supplier
from ml_connector.cin7.source import Cin7Source
from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    ConnectorError,
    InvalidPayload,
    NotFound,
    RecordRejected,
    TransientError,
)
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.models import SupplierInvoice
from ml_connector.qad.operations import FINISHED_BY_OPERATION, Adoption, QadOperations
from ml_connector.store.audit import record_key
from ml_connector.store.models import ConnectionConfig, Posting, Record, TrailEntry
from ml_connector.store.protocols import SyncStateStore
from ml_connector.sync.actions import (
    Action,
    ClosePurchaseOrder,
    CreatePurchaseOrder,
    EnsureItem,
    EnsureSupplier,
    PostCreditNote,
    PostInvoice,
    PostReceipt,
    ReverseReceipt,
)
from ml_connector.sync.amounts import MoneyRule
from ml_connector.sync.checks import check_against_row, is_voided
from ml_connector.sync.execute import execute, invoice_facts
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.journal import Journal
from ml_connector.sync.listing import SETTLED, inactive
from ml_connector.sync.plan import Plan, before_cutover, plan, shared_keys
from ml_connector.sync.quarantine import (
    cin7_id_of,
    quarantine_payload,
    quarantined,
    reference_of,
    refused,
    stamp_of,
    unreadable,
)
from ml_connector.sync.reconcile import account_lines, record_amounts
from ml_connector.sync.unrecorded import complete_for_void
from ml_connector.vocab import AuditEventKind, RecordKind, RecordStatus

log = logging.getLogger(__name__)

SEEN_BATCH = 100
"""Listed purchase rows checked against the store in one query."""
MATCH_CHECKS = 100
"""Posted invoices whose QAD matching is re-read per pass, at most."""
NEEDS_WORK: tuple[RecordStatus, ...] = ("pending", "held", "blocked")
INTERNAL_FAILURE = "internal error"
"""How the reason of a record failed by an internal error starts (this module writes it)."""
_STATUS_EVENTS: dict[RecordStatus, AuditEventKind] = {
    "held": "held",
    "blocked": "blocked",
    "failed": "failed",
    "attention": "attention",
    "posted": "completed",
    "before-cutover": "before-cutover",
    "go-live": "go-live",
}
"""The trail event that marks a record reaching a status (others leave no event)."""
_MAX_ROUNDS = 4
_SENTINEL = -1

Progress = Callable[[str, int, int | None], None]
"""`progress(phase, done, total)`: phase is `suppliers`, `purchases` or `posting`."""

Submit = Callable[[int], Awaitable[None]]
Feed = Callable[[Submit], Awaitable[None]]
"""What a pass works on: a coroutine that submits record ids (a poll, or a replay list)."""


@dataclass
class Counters:
    """What one pass did; stored with the run and printed by the CLI."""

    suppliers_fetched: int = 0
    purchases_fetched: int = 0
    not_fetched: int = 0  # list rows with nothing for QAD (drafts, voids never posted)
    records_planned: int = 0
    suppliers_created: int = 0
    purchase_orders: int = 0
    purchase_order_updates: int = 0
    receipts: int = 0
    invoices: int = 0
    credit_notes: int = 0
    closed: int = 0
    released: int = 0
    posted: int = 0
    held: int = 0
    blocked: int = 0
    failed: int = 0
    waiting: int = 0
    attention: int = 0
    adopted: int = 0  # documents found in QAD (keyed by hand) and recorded instead of created
    before_cutover: int = 0  # ordered before the cut-over, nothing after it: QAD gets nothing
    go_live: int = 0  # ordered before the cut-over, activity after it: on the go-live worklist
    retry_later: int = 0
    cin7_calls: int = 0
    cin7_rate_limited: int = 0  # Cin7 answered "rate limited" and the pass waited
    qad_calls: int = 0
    qad_errors: int = 0  # QAD refused a write, or stayed unavailable after the retries


ErrorKind = Literal["auth", "unavailable", "config", "other"]


@dataclass
class Preview:
    """What a dry run found, as ``(reference, what)`` pairs; none of it was posted.

    A supplier or item that several purchases need is listed once, under the first of them.
    """

    post: list[tuple[str, str]] = field(default_factory=list)
    hold: list[tuple[str, str]] = field(default_factory=list)
    block: list[tuple[str, str]] = field(default_factory=list)
    skip: list[tuple[str, str]] = field(default_factory=list)
    attention: list[tuple[str, str]] = field(default_factory=list)
    fail: list[tuple[str, str]] = field(default_factory=list)
    shared_seen: set[str] = field(default_factory=set, repr=False)

    def add(self, reference: str, current: Plan) -> None:
        if current.status == "go-live":
            self.skip.append((reference, "go-live worklist: " + "; ".join(current.notes)))
            return
        for action in current.actions:
            if _shared(action):
                if action.natural_key in self.shared_seen:
                    continue
                self.shared_seen.add(action.natural_key)
            self.post.append((reference, action.describe()))
        self.hold += [(reference, h.reason) for h in current.holds]
        if current.missing:
            self.block.append((reference, "; ".join(f"missing {m}" for m in current.missing)))
        if current.status in ("waiting", "void", "before-cutover"):
            self.skip.append((reference, "; ".join(current.notes) or current.status))
        self.attention += [(reference, reason) for reason in current.attention]
        self.fail += [(reference, problem) for problem in current.problems]


@dataclass
class SyncReport:
    """How a pass ended; `error_kind` says why a failed pass stopped (auth → exit 3)."""

    run_id: int
    status: Literal["succeeded", "failed", "interrupted"]
    counters: Counters
    error: str | None = None
    would_post: list[tuple[str, str]] = field(default_factory=list)
    error_kind: ErrorKind | None = None
    preview: Preview | None = None  # a dry run's full account (``would_post`` is its ``post``)


class _NeedsAttention(Exception):
    """QAD holds part of a document already: a person must settle it (the message says how)."""


@dataclass(frozen=True)
class _Handed:
    """A purchase staged this pass, handed from the poll to its worker without a re-read."""

    record: Record
    payload: dict[str, Any]
    version: int
    new: bool  # first staged this pass: no postings, no intent or hold in its trail yet
    fetched: dict[str, Any]


@dataclass
class _Outcome:
    status: RecordStatus
    reason: str | None
    released: int = 0
    holds: tuple[str, ...] = ()
    posted: dict[str, Posted] | None = None
    would_post: tuple[str, ...] = ()


class SyncEngine:
    """Moves one connection's Cin7 purchases into its QAD tenant."""

    def __init__(
        self,
        store: SyncStateStore,
        config: ConnectionConfig,
        cin7: Cin7Source | None,
        qad: QadChannel,
        *,
        actor: str = "sync",
        progress: Progress | None = None,
        concurrency: int = 4,
        overlap: timedelta = DEFAULT_OVERLAP,
    ) -> None:
        if config.id is None:
            raise ValueError("the connection must be stored before it syncs")
        self.store = store
        self.config = config
        self.cid: int = config.id
        self.cin7 = cin7
        self.qad = qad
        self.ops = QadOperations(qad)
        self.actor = actor
        self.progress = progress or (lambda phase, done, total: None)
        self.concurrency = max(1, concurrency)
        self.overlap = overlap
        self.ctx = PlanContext(
            domain=config.qad.domain,
            entity=config.qad.entity,
            default_site=config.qad.site,
            create_missing_items=config.sync.create_missing_items,
            item_gl_account=config.sync.item_gl_account,
            default_credit_terms=config.sync.default_credit_terms,
            rounding=config.sync.rounding,
            over_receipt_pct=config.sync.over_receipt_pct,
            price_tolerance_pct=config.sync.price_tolerance_pct,
            price_tolerance_amount=config.sync.price_tolerance_amount,
            cutover=config.sync.since,
        )
        self.money_rule = MoneyRule(self.ctx.rounding)
        self.counters = Counters()
        self._mappings = Mappings()
        self._locks: dict[str, asyncio.Lock] = {}
        # Per pass (see `_run`): what a record staged this pass hands to its worker, and what
        # many records of the pass read alike.
        self._handed: dict[int, _Handed] = {}
        self._suppliers: dict[str, Supplier | None] = {}
        self._shared: dict[str, Posting | None] = {}
        self._seen_rows: dict[tuple[RecordKind, str, str], bool] = {}
        self._dry_run = False
        self._preview = Preview()
        self._qad_before = 0
        self._cin7_waits_before = 0

    # --- entry points -----------------------------------------------------------------------

    async def sync(self, *, dry_run: bool = False) -> SyncReport:
        """One full pass: poll, stage, plan, post. `dry_run` posts nothing, moves no cursor."""
        if self.cin7 is None:
            raise ValueError("a sync needs a Cin7 client")
        cin7 = self.cin7
        return await self._run(
            "dry-run" if dry_run else "sync", dry_run, lambda q: self._poll(cin7, q, dry_run)
        )

    async def replay(self, records: Iterable[Record]) -> SyncReport:
        """Re-run records from their stored snapshots, without calling Cin7."""
        chosen = list(records)

        async def feed(submit: Submit) -> None:
            for record in chosen:
                await self.store.append(
                    self.cid,
                    record.key,
                    "replayed",
                    self.actor,
                    {"previous_status": record.status, "reason": record.reason},
                )
                await self.store.set_record_status(
                    record.id, "pending", "replay requested", actor=self.actor
                )
                await submit(record.id)

        return await self._run("replay", False, feed, include_backlog=False)

    # --- the pass ---------------------------------------------------------------------------

    async def _run(
        self,
        kind: Literal["sync", "replay", "dry-run"],
        dry_run: bool,
        feed: Feed,
        *,
        include_backlog: bool = True,
    ) -> SyncReport:
        self._dry_run = dry_run
        self._preview = Preview()
        self.counters = Counters()
        self._handed, self._suppliers, self._shared, self._seen_rows = {}, {}, {}, {}
        cin7_before = self.cin7.calls if self.cin7 else 0
        self._cin7_waits_before = self.cin7.rate_limited if self.cin7 else 0
        self._qad_before = self.qad.calls
        run = await self.store.start_run(self.cid, kind, self.actor)
        status: Literal["succeeded", "failed", "interrupted"] = "succeeded"
        error: str | None = None
        error_kind: ErrorKind | None = None
        try:
            # QAD first: a pass whose records are all blocked or idle would otherwise never
            # call QAD, and a refused password would go unnoticed until something posts. (Cin7's
            # first list call is its own check.)
            await self.qad.ping()
            self._mappings = await self._load_mappings()
            if not dry_run:
                await self._resolve_intents()
            await self._process_all(feed, include_backlog)
            if not dry_run:
                await self._refresh_matching()
            if not dry_run:
                await self.store.set_health(self.cid, True, None)
        except AuthRejected as exc:
            status, error, error_kind = "failed", str(exc), "auth"
            self.counters.qad_errors += exc.system == "qad"
            await self.store.set_health(self.cid, False, error)
        except TransientError as exc:
            status, error, error_kind = "failed", str(exc), "unavailable"
            self.counters.qad_errors += exc.system == "qad"
        except ConfigError as exc:
            status, error, error_kind = "failed", str(exc), "config"
        except ConnectorError as exc:
            status, error, error_kind = "failed", str(exc), "other"
        except asyncio.CancelledError:
            await self.store.finish_run(run.id, "interrupted", self._counter_dict(cin7_before))
            raise
        finally:
            self._dry_run = False
        await self.store.finish_run(run.id, status, self._counter_dict(cin7_before), error)
        preview = self._preview if dry_run else None
        return SyncReport(
            run.id, status, self.counters, error, self._preview.post, error_kind, preview
        )

    def _counter_dict(self, cin7_before: int) -> dict[str, Any]:
        self.counters.cin7_calls = (self.cin7.calls if self.cin7 else 0) - cin7_before
        self.counters.cin7_rate_limited = (
            self.cin7.rate_limited if self.cin7 else 0
        ) - self._cin7_waits_before
        self.counters.qad_calls = self.qad.calls - self._qad_before
        return asdict(self.counters)

    async def _process_all(self, feed: Feed, include_backlog: bool) -> None:
        """Run `feed` (which submits record ids) while `concurrency` workers post them.

        The queue is bounded, so polling never runs far ahead of posting and memory stays flat;
        an error that stops the pass (auth) cancels the feed and every worker at once.
        """
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=self.concurrency * 4)
        queued: set[int] = set()
        done = 0
        total: int | None = None  # known once the feed has submitted everything

        async def submit(record_id: int) -> None:
            if record_id not in queued:
                queued.add(record_id)
                await queue.put(record_id)

        async def producer() -> None:
            nonlocal total
            await feed(submit)
            if include_backlog:
                for record_id in await self._backlog():
                    await submit(record_id)
            total = len(queued)
            self.progress("posting", done, total)
            for _ in range(self.concurrency):
                await queue.put(_SENTINEL)

        async def worker() -> None:
            nonlocal done
            while (record_id := await queue.get()) != _SENTINEL:
                await self._process(record_id)
                done += 1
                self.progress("posting", done, total)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(producer())
                for _ in range(self.concurrency):
                    group.create_task(worker())
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None

    async def _backlog(self) -> list[int]:
        ids: list[int] = []
        for status in NEEDS_WORK:
            for record in await self.store.list_records(self.cid, status=status, kind="purchase"):
                ids.append(record.id)
        for record in await self.store.list_records(self.cid, status="failed", kind="purchase"):
            if (record.reason or "").startswith(INTERNAL_FAILURE):
                ids.append(record.id)
        return ids

    # --- polling ------------------------------------------------------------------------------

    async def _poll(self, cin7: Cin7Source, submit: Submit, dry_run: bool) -> None:
        supplier_cursor = await self._poll_suppliers(cin7)
        purchase_cursor = await self._poll_purchases(cin7, submit)
        if dry_run:
            return
        async with self.store.transaction():
            if supplier_cursor:
                await self.store.set_cursor(self.cid, "suppliers", supplier_cursor)
            if purchase_cursor:
                await self.store.set_cursor(self.cid, "purchases", purchase_cursor)

    async def _seen(self, kind: RecordKind, cin7_id: str, stamp: str) -> bool:
        known = self._seen_rows.pop((kind, cin7_id, stamp), None)
        if known is not None:
            return known
        return await self.store.seen(self.cid, kind, cin7_id, stamp)

    def _seen_in_batches(
        self, lister: Callable[..., AsyncIterator[PurchaseListRow]]
    ) -> Callable[..., AsyncIterator[PurchaseListRow]]:
        """`lister`, asking the store which rows it holds a batch of rows at a time (one query
        instead of one per row); `_seen` answers from that batch."""

        async def listed(*args: Any, **kwargs: Any) -> AsyncIterator[PurchaseListRow]:
            batch: list[PurchaseListRow] = []
            async for row in lister(*args, **kwargs):
                batch.append(row)
                if len(batch) >= SEEN_BATCH:
                    await self._check_seen(batch)
                    for held in batch:
                        yield held
                    batch = []
            if batch:
                await self._check_seen(batch)
                for held in batch:
                    yield held

        return listed

    async def _check_seen(self, rows: Sequence[PurchaseListRow]) -> None:
        counts = Counter(row.id for row in rows)
        # An id listed twice (it changed between pages) is asked about per row: the answer is
        # per id, and only one of its stamps may be held.
        pairs = [(row.id, row.last_updated_raw) for row in rows if counts[row.id] == 1]
        held = await self.store.seen_many(self.cid, "purchase", pairs)
        for cin7_id, stamp in pairs:
            self._seen_rows[("purchase", cin7_id, stamp)] = cin7_id in held

    async def _poll_suppliers(self, cin7: Cin7Source) -> str | None:
        cursor = await self.store.get_cursor(self.cid, "suppliers")
        scan: IncrementalScan[Supplier] = IncrementalScan(
            cin7.suppliers,
            cursor.value if cursor else None,
            lambda cin7_id, stamp: self._seen("supplier", cin7_id, stamp),
            self.overlap,
            on_invalid=self._invalid_supplier,
        )
        async for supplier in scan:
            await self._stage_supplier(
                supplier.raw, supplier.id or "", supplier.name, supplier.last_modified_raw
            )
        return scan.new_cursor

    async def _invalid_supplier(self, raw: Any, error: InvalidPayload) -> None:
        cin7_id = str(raw.get("ID") or "").lower()
        if cin7_id:
            await self._stage_supplier(
                dict(raw),
                cin7_id,
                str(raw.get("Name") or cin7_id),
                str(raw.get("LastModifiedOn") or ""),
            )

    async def _stage_supplier(
        self, raw: dict[str, Any], cin7_id: str, name: str, stamp: str
    ) -> None:
        self.counters.suppliers_fetched += 1
        self.progress("suppliers", self.counters.suppliers_fetched, None)
        async with self.store.transaction():
            staged = await self.store.stage_snapshot(
                self.cid, "supplier", cin7_id, name, stamp, raw
            )
            record = await self.store.upsert_record(
                self.cid,
                "supplier",
                cin7_id,
                reference=name,
                latest_version=staged.version,
                status="posted" if staged.changed else None,
                actor=self.actor,
            )
            if staged.changed:
                await self.store.append(
                    self.cid,
                    record.key,
                    "fetched",
                    self.actor,
                    {"version": staged.version, "hash": staged.hash},
                )

    async def _poll_purchases(self, cin7: Cin7Source, submit: Submit) -> str | None:
        cursor = await self.store.get_cursor(self.cid, "purchases")
        scan: IncrementalScan[PurchaseListRow] = IncrementalScan(
            self._seen_in_batches(cin7.purchase_list),
            cursor.value if cursor else None,
            lambda cin7_id, stamp: self._seen("purchase", cin7_id, stamp),
            self.overlap,
            on_invalid=self._invalid_purchase_row,
        )
        async for row in scan:
            if await self._not_worth_fetching(row):
                continue
            record_id = await self._fetch_purchase(cin7, row)
            if record_id is not None:
                await submit(record_id)
        return scan.new_cursor

    async def _not_worth_fetching(self, row: PurchaseListRow) -> bool:
        """A draft, or a void of nothing posted, costs no detail call (see `sync.listing`)."""
        kind = inactive(row)
        if kind is None:
            return False
        known = await self.store.get_record(self.cid, "purchase", row.id)
        if known is not None and (
            known.status not in SETTLED or await self.store.posted_state(self.cid, known)
        ):
            return False
        self.counters.not_fetched += 1
        if self._dry_run:
            reference = reference_of(row.order_number, row.id)
            self._preview.skip.append((reference, f"{kind} in Cin7: nothing for QAD"))
        return True

    async def _invalid_purchase_row(self, raw: Any, error: InvalidPayload) -> None:
        cin7_id = cin7_id_of(raw.get("ID"))
        if cin7_id is None:
            self.counters.failed += 1
            log.warning("a Cin7 purchase list row without an ID: %s", "; ".join(error.problems))
            return
        await self._quarantine(
            cin7_id,
            reference_of(raw.get("OrderNumber"), cin7_id),
            stamp_of(raw.get("LastUpdatedDate")),
            unreadable(error.problems),
            raw,
        )

    async def _quarantine(
        self,
        cin7_id: str,
        reference: str,
        stamp: str,
        why: str,
        listed: Any,
    ) -> None:
        """Set one unreadable purchase version aside as `failed` (see `sync.quarantine`)."""
        if self._dry_run:
            return
        self.counters.failed += 1
        async with self.store.transaction():
            staged = await self.store.stage_snapshot(
                self.cid,
                "purchase",
                cin7_id,
                reference,
                stamp,
                quarantine_payload(why, listed),
            )
            known = await self.store.get_record(self.cid, "purchase", cin7_id)
            record = await self.store.upsert_record(
                self.cid,
                "purchase",
                cin7_id,
                reference=known.reference if known else reference,
                latest_version=staged.version,
                status="failed",
                reason=why,
                actor=self.actor,
            )
            if known is None or (known.status, known.reason) != ("failed", why):
                await self.store.append(
                    self.cid,
                    record.key,
                    "failed",
                    self.actor,
                    {"reason": why, "version": staged.version, "last_updated": stamp},
                )

    async def _fetch_purchase(self, cin7: Cin7Source, row: PurchaseListRow) -> int | None:
        cin7_id = row.id
        try:
            raw: dict[str, Any] = await cin7.purchase_json(cin7_id, row.type)
        except (RecordRejected, NotFound) as exc:
            await self._quarantine(
                cin7_id,
                reference_of(row.order_number, cin7_id),
                stamp_of(row.last_updated_raw),
                refused(exc.message),
                {"ID": cin7_id, "OrderNumber": row.order_number, "Type": row.type},
            )
            return None
        except InvalidPayload as exc:
            await self._quarantine(
                cin7_id,
                reference_of(row.order_number, cin7_id),
                stamp_of(row.last_updated_raw),
                unreadable(exc.problems),
                {"ID": cin7_id, "OrderNumber": row.order_number, "Type": row.type},
            )
            return None
        self.counters.purchases_fetched += 1
        self.progress("purchases", self.counters.purchases_fetched, None)
        reference = row.order_number or reference_of(raw.get("OrderNumber"), cin7_id)
        month = row.order_date.strftime("%Y-%m") if row.order_date else None
        # Snapshot, record and trail in one transaction: a kill between them would leave a
        # snapshot that `seen` reports as held while no record exists to post it.
        async with self.store.transaction():
            staged = await self.store.stage_snapshot(
                self.cid, "purchase", cin7_id, reference, row.last_updated_raw, raw
            )
            fetched = {
                "version": staged.version,
                "hash": staged.hash,
                "last_updated": row.last_updated_raw,
            }
            # The `fetched` event goes in with the record's own write: one chain append.
            event = TrailEntry(record_key("purchase", reference), "fetched", self.actor, fetched)
            record = await self.store.upsert_record(
                self.cid,
                "purchase",
                cin7_id,
                reference=reference,
                supplier_id=row.supplier_id,
                latest_version=staged.version,
                month=month,
                status="pending" if staged.changed else None,
                actor=self.actor,
                trail=[event] if staged.changed else (),
            )
            if not staged.changed and record.status != "failed":
                return None
            if not staged.changed:
                # Same content with a new stamp: a failed record gets another try, since what
                # failed it may lie in the stamp itself, or in QAD since.
                record = await self.store.set_record_status(
                    record.id,
                    "pending",
                    "fetched again from Cin7",
                    actor=self.actor,
                    trail=[replace(event, record_key=record.key)],
                )
        new = staged.version == 1 and record.created_at == record.updated_at
        self._handed[record.id] = _Handed(record, raw, staged.version, new, fetched)
        return record.id

    # --- intents left by a crash -----------------------------------------------------------------

    async def _resolve_intents(self) -> None:
        for intent in await self.store.open_intents(self.cid):
            if intent.kind in FINISHED_BY_OPERATION:
                continue  # the plan runs it again; the operation completes what QAD holds
            qad_id = await self.ops.look_up(intent.kind, intent.details.get("lookup") or {})
            record = (
                await self.store.get_record_by_id(intent.record_id) if intent.record_id else None
            )
            key = record.key if record else intent.natural_key
            if qad_id is None:
                await self.store.abandon_intent(self.cid, intent.natural_key)
                await self.store.append(
                    self.cid,
                    key,
                    "intent-resolved",
                    self.actor,
                    {"natural_key": intent.natural_key, "found": False},
                )
                continue
            details = dict(intent.details.get("posted_details") or {})
            details.update({k: qad_id for k in intent.details.get("id_fields", [])})
            await self.store.record_posted(
                self.cid,
                intent.natural_key,
                qad_id,
                details,
                kind=intent.kind,
                record_id=intent.record_id,
            )
            await self.store.append(
                self.cid,
                key,
                "intent-resolved",
                self.actor,
                {"natural_key": intent.natural_key, "found": True, "qad_id": qad_id},
            )

    # --- QAD's receiver matching of posted invoices -------------------------------------------

    async def _refresh_matching(self) -> None:
        """Re-read posted invoices whose matching QAD had not finished (and ones recorded before
        their status was kept); record the change, and `matched` in the trail once it finished.

        Invoices go to QAD as the tenant's initial status (AP-INITIAL) and QAD's receiver
        matching finishes them; at most `MATCH_CHECKS` are read per pass. QAD being unavailable
        here never fails the pass: the next pass reads again.
        """
        unfinished = [
            posting
            for kind in ("invoice", "credit_note")
            for posting in await self.store.list_postings(self.cid, kind=kind, state="posted")
            if posting.details.get("matching_status") != "Finished"
            and posting.details.get("supplier_code")
        ]
        for posting in unfinished[:MATCH_CHECKS]:
            try:
                found = await self._read_invoice(posting)
            except TransientError as exc:  # only a status read: the next pass looks again
                log.info("matching status not read this pass: %s", exc)
                return
            if found is None:
                continue
            facts = invoice_facts(found)
            if all(posting.details.get(k) == v for k, v in facts.items()):
                continue
            details = {**posting.details, **facts}
            record = (
                await self.store.get_record_by_id(posting.record_id) if posting.record_id else None
            )
            async with self.store.transaction():
                await self.store.record_posted(
                    self.cid, posting.natural_key, posting.qad_id, details
                )
                if record is not None and found.is_matched:
                    await self.store.append(
                        self.cid,
                        record.key,
                        "matched",
                        self.actor,
                        {
                            "natural_key": posting.natural_key,
                            "voucher": posting.qad_id,
                            "status_code": found.status_code,
                            "accounts": account_lines(details),
                        },
                    )

    async def _read_invoice(self, posting: Posting) -> SupplierInvoice | None:
        d = posting.details
        return await self.ops.existing_invoice(
            str(d["supplier_code"]),
            str(d.get("reference") or ""),
            "CreditNote" if posting.kind == "credit_note" else "Invoice",
            str(d.get("po_number") or ""),
            str(d.get("description") or ""),
        )

    # --- one record ----------------------------------------------------------------------------

    async def _process(self, record_id: int) -> None:
        handed = self._handed.pop(record_id, None)
        if handed is not None:
            record, payload, version = handed.record, handed.payload, handed.version
            journal = Journal(
                self.store,
                self.cid,
                record,
                self.actor,
                trail=[("fetched", handed.fetched)] if handed.new else None,
            )
        else:
            found = await self.store.get_record_by_id(record_id)
            if found is None or found.kind != "purchase":
                return
            record = found
            snapshot = await self.store.latest_snapshot(self.cid, "purchase", record.cin7_id)
            if snapshot is None:
                return
            payload, version = snapshot.payload, snapshot.version
            journal = Journal(self.store, self.cid, record, self.actor)
        try:
            await self._process_payload(
                record, payload, version, journal, handed is not None and handed.new
            )
        finally:
            if journal.pending:  # a pass stopped mid-record: keep what is known (best effort)
                try:
                    await journal.commit()
                except Exception:  # the next pass resolves the open intents from QAD
                    log.warning("record %s: last outcomes not recorded", record.reference)

    async def _process_payload(
        self, record: Record, payload: dict[str, Any], version: int, journal: Journal, new: bool
    ) -> None:
        set_aside = quarantined(payload)
        if set_aside is not None:
            await self._finish(record, _Outcome("failed", set_aside), version, journal)
            return
        try:
            purchase = Purchase.from_cin7(payload)
        except InvalidPayload as exc:
            await self._finish(
                record, _Outcome("failed", unreadable(exc.problems)), version, journal
            )
            return
        mismatch = check_against_row(purchase, record.cin7_id, record.reference, record.supplier_id)
        if mismatch:
            await self._finish(record, _Outcome("failed", "; ".join(mismatch)), version, journal)
            return
        supplier = await self._supplier(purchase.supplier_id)
        try:
            outcome = await self._plan_and_post(record, purchase, supplier, journal, new)
        except TransientError as exc:
            self.counters.retry_later += 1
            if exc.system == "qad":
                self.counters.qad_errors += 1
            journal.note("retried", {"error": str(exc)})
            outcome = _Outcome("pending", f"will retry: {exc}")
        except (AuthRejected, asyncio.CancelledError):
            raise
        except Exception as exc:  # a defect or a store failure must not stop the other records
            log.exception("record %s failed unexpectedly", record.reference)
            outcome = _Outcome("failed", f"{INTERNAL_FAILURE} ({type(exc).__name__}): {exc}")
        await self._finish(record, outcome, version, journal, purchase)

    async def _supplier(self, supplier_id: str | None) -> Supplier | None:
        """The purchase's Cin7 supplier, read once a pass (suppliers are staged before)."""
        if not supplier_id:
            return None
        if supplier_id not in self._suppliers:
            snapshot = await self.store.latest_snapshot(self.cid, "supplier", supplier_id)
            supplier = None
            if snapshot is not None:
                with contextlib.suppress(InvalidPayload):  # read as unknown, as before
                    supplier = Supplier.from_cin7(snapshot.payload)
            self._suppliers[supplier_id] = supplier
        return self._suppliers[supplier_id]

    async def _posted(
        self, record: Record, purchase: Purchase, new: bool = False
    ) -> dict[str, Posted]:
        """What QAD holds of the purchase: its own postings (none for a record new this pass)
        and the shared supplier and item entries, read once a pass and again after this
        engine writes one (`_post_actions`)."""
        own = {} if new else await self.store.posted_state(self.cid, record)
        keys = shared_keys(purchase)
        unknown = [key for key in keys if key not in self._shared]
        if unknown:
            found = await self.store.get_postings(self.cid, unknown)
            self._shared.update({key: found.get(key) for key in unknown})
        shared = {key: p for key in keys if (p := self._shared.get(key)) is not None}
        return {
            key: Posted(p.qad_id or "", p.details)
            for key, p in {**shared, **own}.items()
            if p.state == "posted"
        }

    async def _plan_and_post(
        self,
        record: Record,
        purchase: Purchase,
        supplier: Supplier | None,
        journal: Journal,
        new: bool,
    ) -> _Outcome:
        released = 0
        posted = await self._posted(record, purchase, new)
        if is_voided(purchase):  # our own PO or invoice may be in QAD without its outcome
            await complete_for_void(
                self.store, self.cid, self.ops, journal, purchase, posted, record=not self._dry_run
            )
        ctx = self.ctx
        if before_cutover(purchase, ctx):
            trail = await journal.trail()
            if any(event == "golive-released" for event, _ in trail):
                ctx = replace(ctx, cutover_released=True)
        current: Plan | None = None
        for _round in range(_MAX_ROUNDS):
            current = plan(purchase, supplier, self._mappings, posted, ctx)
            self.counters.records_planned += 1
            if self._dry_run:
                self._preview.add(record.reference, current)
                return _Outcome(record.status, record.reason, posted=posted)
            if current.status == "go-live":
                if await self._adopt_go_live(current):
                    ctx = replace(ctx, cutover_released=True)  # finance keyed its PO: adopt
                    continue
                break
            if not current.actions:
                break
            journal.note(
                "planned",
                {
                    "status": current.status,
                    "actions": [a.describe() for a in current.actions],
                    "holds": [h.reason for h in current.holds],
                },
            )
            invoices = {a.natural_key for a in current.actions if isinstance(a, PostInvoice)}
            try:
                failure = await self._post_actions(record, current.actions, posted, journal)
            except _NeedsAttention as exc:
                return _Outcome("attention", str(exc), released, posted=posted)
            if failure is not None:
                return _Outcome("failed", failure, released, posted=posted)
            if invoices:
                released += len(invoices & await self._previously_held(journal))
        assert current is not None
        if released:
            self.counters.released += released
        return _outcome_of(current, released, posted)

    async def _adopt_go_live(self, current: Plan) -> bool:
        """A go-live purchase whose PO finance keyed in QAD is adopted rather than listed."""
        if not self.config.sync.adopt_existing or not current.po_number:
            return False
        return await self.ops.adoptable_purchase_order(current.po_number) is not None

    async def _adoptable(
        self, action: Action, posted: Mapping[str, Posted], *, ours: bool = False
    ) -> Adoption | None:
        """What QAD already holds of the document `action` would create (see `QadOperations`);
        `ours` when ml-connector sent it before."""
        if isinstance(action, CreatePurchaseOrder):
            found = await self.ops.adoptable_purchase_order(action.number)
            if found is None:
                return None
            held = {line["line"]: line["item"] for line in found.found["lines"]}
            differ = [
                f"line {line.line}: QAD {held.get(line.line) or 'no line'}, Cin7 {line.item_code}"
                for line in action.open_lines
                if held.get(line.line) != line.item_code
            ]
            if differ:
                return Adoption(
                    None,
                    found.found,
                    f"PO {action.number} keyed in QAD by hand differs: {'; '.join(differ)}",
                )
            return found
        if isinstance(action, PostReceipt):
            wanted: dict[int, Decimal] = {}
            for line in action.lines:
                wanted[line.po_line] = wanted.get(line.po_line, Decimal(0)) + line.quantity
            recorded: dict[int, Decimal] = {}
            for key, entry in posted.items():
                if key.startswith(("receipt:", "unstock:")):
                    for line in entry.details.get("lines") or ():
                        n = int(line["line"])
                        recorded[n] = recorded.get(n, Decimal(0)) + Decimal(str(line["quantity"]))
            return await self.ops.adoptable_receipt(action.po_number, wanted, recorded, ours=ours)
        if isinstance(action, PostInvoice | PostCreditNote):
            return await self.ops.adoptable_invoice(
                action.supplier_code,
                action.reference,
                action.invoice_type,
                action.po_number,
                action.description,
            )
        return None

    async def _adopt(
        self,
        journal: Journal,
        action: Action,
        posted: dict[str, Posted],
        held: set[str],
    ) -> bool:
        """Record `action`'s document as posted when QAD holds it already, without creating it.

        Only a document ml-connector never sent is adopted (finance keyed it by hand). Our own
        (an intent row is open, or the trail holds an `intent` for its key: a crash, a lost
        answer, a refusal after QAD saved part of it) is resumed by its operation, which looks
        up its natural key and finishes it: a PO gets its missing lines, an invoice is found by
        supplier + reference + PO. A receipt of our own whose receiver QAD cannot find by
        packing slip is still checked by quantity, since posting it again would receive the
        goods twice: covered, it is recorded as ours (`intent-resolved`, not `adopted`).
        """
        key = action.natural_key
        if _shared(action):
            held_now = await self.store.get_posting(self.cid, key) is not None
        else:
            held_now = key in held  # read for the round's actions together (_post_actions)
        if held_now:
            return False  # an open intent: the operation completes it, never adopts
        ours = await self._sent_before(journal, key)
        if ours and not isinstance(action, PostReceipt):
            return False
        found = await self._adoptable(action, posted, ours=ours)
        if found is None:
            return False
        if found.qad_id is None:
            raise _NeedsAttention(found.conflict or f"QAD holds part of {action.describe()}")
        details = action.posted_details(found.qad_id)
        event: AuditEventKind = "adopted"
        data: dict[str, Any] = {"natural_key": key, "qad_id": found.qad_id}
        if ours:
            event = "intent-resolved"
            data |= {"found": True, "by_quantity": found.found}
        else:
            data |= {"action": action.describe(), "found": found.found}
        journal.note_posted(key, found.qad_id, details, action.kind)
        journal.note(event, data)
        posted[key] = Posted(found.qad_id, details)
        if not ours:
            self.counters.adopted += 1
        return True

    async def _sent_before(self, journal: Journal, natural_key: str) -> bool:
        """Whether ml-connector ever announced a QAD create for `natural_key` (its trail holds
        the `intent`, written before the call, even after the intent row was dropped)."""
        return any(
            event == "intent" and data.get("natural_key") == natural_key
            for event, data in await journal.trail()
        )

    async def _previously_held(self, journal: Journal) -> set[str]:
        return {
            key
            for event, data in await journal.trail()
            if event == "held"
            for key in data.get("holds", [])
        }

    async def _post_actions(
        self,
        record: Record,
        actions: Sequence[Action],
        posted: dict[str, Posted],
        journal: Journal,
    ) -> str | None:
        """Post in order, keeping `posted` current; returns QAD's message on a record error."""
        held: set[str] = set()
        if self.config.sync.adopt_existing:
            creates = [
                a.natural_key for a in actions if not _shared(a) and a.natural_key not in posted
            ]
            if creates:
                held = set(await self.store.get_postings(self.cid, creates))
        for action in actions:
            key = action.natural_key
            if _shared(action):
                # Suppliers and items are shared by records posting concurrently: look again
                # under the lock, another record may have just created this one, and record
                # the outcome before letting the next one look.
                async with self._lock(key):
                    existing = await self.store.get_posting(self.cid, key)
                    if (
                        existing is not None
                        and existing.state == "posted"
                        and existing.details == action.posted_details(existing.qad_id or "")
                    ):
                        posted[key] = Posted(existing.qad_id or "", existing.details)
                        continue
                    try:
                        failure = await self._post_one(journal, action, posted, held)
                        await journal.commit()
                    finally:
                        self._shared.pop(key, None)
            else:
                failure = await self._post_one(journal, action, posted, held)
            if failure is not None:
                return failure
        return None

    async def _post_one(
        self,
        journal: Journal,
        action: Action,
        posted: dict[str, Posted],
        held: set[str],
    ) -> str | None:
        """One QAD write: its intent committed before it (with what the record gathered so
        far), its outcome gathered in `journal` for the record's next commit."""
        record = journal.record
        key = action.natural_key
        update = key in posted  # updates re-run safely: the operations compare before writing
        if (
            not update
            and self.config.sync.adopt_existing
            and await self._adopt(journal, action, posted, held)
        ):
            return None
        described = action.describe()
        journal.note("intent", {"natural_key": key, "action": described})
        if update:
            await journal.commit()
        else:
            await journal.commit(
                lambda: self.store.record_intent(
                    self.cid, key, action.kind, record.id, intent_details(action)
                )
            )
        try:
            done = await execute(action, self.ops)
        except RecordRejected as exc:
            self.counters.qad_errors += 1
            journal.note(
                "failed",
                {
                    "natural_key": key,
                    "error": exc.message,
                    "fields": [str(e) for e in exc.errors],
                },
            )
            if update:
                await journal.commit()
            else:
                await journal.commit(lambda: self.store.abandon_intent(self.cid, key))
            return f"QAD refused {described}: {exc.message}"
        qad_id = done.qad_id
        details = {**action.posted_details(qad_id), **done.facts}
        event: dict[str, Any] = {"natural_key": key, "qad_id": qad_id, "action": described}
        if isinstance(action, PostInvoice | PostCreditNote):
            event["accounts"] = account_lines(details)
            event["status_code"] = details.get("status_code")
            event["matched"] = details.get("matching_status") == "Finished"
        journal.note_posted(key, qad_id, details, action.kind)
        journal.note("posted", event)
        posted[key] = Posted(qad_id, details)
        self._count(action)
        return None

    def _count(self, action: Action) -> None:
        c = self.counters
        if isinstance(action, EnsureSupplier):
            c.suppliers_created += 1
        elif isinstance(action, CreatePurchaseOrder):
            c.purchase_orders += 1
        elif isinstance(action, ClosePurchaseOrder):
            c.closed += 1
        elif isinstance(action, PostReceipt | ReverseReceipt):
            c.receipts += 1
        elif isinstance(action, PostInvoice):
            c.invoices += 1
        elif isinstance(action, PostCreditNote):
            c.credit_notes += 1
        elif not isinstance(action, EnsureItem):
            c.purchase_order_updates += 1

    def _lock(self, natural_key: str) -> asyncio.Lock:
        return self._locks.setdefault(natural_key, asyncio.Lock())

    async def _finish(
        self,
        record: Record,
        outcome: _Outcome,
        version: int,
        journal: Journal,
        purchase: Purchase | None = None,
    ) -> None:
        """The record's status, its event and all it gathered, in one transaction."""
        if self._dry_run:
            return
        counter = {
            "posted": "posted",
            "held": "held",
            "blocked": "blocked",
            "failed": "failed",
            "waiting": "waiting",
            "attention": "attention",
            "before-cutover": "before_cutover",
            "go-live": "go_live",
        }.get(outcome.status)
        if counter:
            setattr(self.counters, counter, getattr(self.counters, counter) + 1)
        amounts = None
        if purchase is not None:
            posted = outcome.posted
            if posted is None:
                posted = await self._posted(record, purchase)
            amounts = record_amounts(purchase, posted, outcome.status, self.money_rule)
        changed = outcome.status != record.status or outcome.reason != record.reason
        event = _STATUS_EVENTS.get(outcome.status)
        if changed and event is not None:
            data: dict[str, Any] = {"reason": outcome.reason}
            if outcome.holds:
                data["holds"] = list(outcome.holds)
            if outcome.would_post:
                data["would_post"] = list(outcome.would_post)
            journal.note(event, data)
        if outcome.released:
            journal.note("released", {"invoices": outcome.released})
        await journal.commit_with(
            lambda entries: self.store.set_record_status(
                record.id,
                outcome.status,
                outcome.reason,
                posted_version=version if outcome.status == "posted" else None,
                amounts=amounts,
                actor=self.actor,
                trail=entries,
            )
        )

    async def _load_mappings(self) -> Mappings:
        tables = await self.store.mapping_table(self.cid)
        return Mappings(
            account=tables.get("account", {}),
            item=tables.get("item", {}),
            supplier=tables.get("supplier", {}),
            location=tables.get("location", {}),
            payment_term=tables.get("payment_term", {}),
            tax_rule=tables.get("tax_rule", {}),
            currency=tables.get("currency", {}),
        )


def _shared(action: Action) -> bool:
    return isinstance(action, EnsureSupplier | EnsureItem)


def intent_details(action: Action) -> dict[str, Any]:
    """What an intent row holds for `action`: how `QadOperations.look_up` finds it in QAD after
    a crash, and what to record if QAD holds it. Public so that a test can plant the intent a
    crash would leave."""
    lookup: dict[str, Any] = {}
    if isinstance(action, PostReceipt | ReverseReceipt):
        lookup = {"po_number": action.po_number, "packing_slip": action.packing_slip}
    elif isinstance(action, PostInvoice | PostCreditNote):
        lookup = {
            "supplier_code": action.supplier_code,
            "reference": action.reference,
            "po_number": action.po_number,
            "description": action.description,
        }
    elif isinstance(action, EnsureSupplier | EnsureItem):
        lookup = {"code": action.code}
    id_fields = {
        "receipt": ["receiver"],
        "reverse_receipt": ["receiver"],
        "invoice": ["voucher"],
        "credit_note": ["voucher"],
        "supplier": ["code"],
        "item": ["code"],
    }.get(action.kind, [])
    return {"lookup": lookup, "posted_details": action.posted_details(""), "id_fields": id_fields}


_AS_PLANNED: tuple[RecordStatus, ...] = (
    "posted",
    "held",
    "blocked",
    "failed",
    "waiting",
    "void",
    "attention",
    "before-cutover",
    "go-live",
)


def _outcome_of(current: Plan, released: int, posted: dict[str, Posted]) -> _Outcome:
    status: RecordStatus = current.status if current.status in _AS_PLANNED else "pending"
    reason = "; ".join(
        [
            *current.problems,
            *(f"missing {m}" for m in current.missing),
            *(h.reason for h in current.holds),
            *current.attention,
        ]
    ) or (
        "; ".join(current.notes)
        if status in ("waiting", "void", "before-cutover", "go-live")
        else None
    )
    holds = tuple(h.natural_key for h in current.holds)
    would_post = tuple(a.describe() for a in current.actions) if status == "go-live" else ()
    return _Outcome(status, reason or None, released, holds, posted, would_post)
