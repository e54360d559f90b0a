"""`ml-connector demo`: the whole job on one command, against both sandboxes.

The flow (:func:`run_demo`, callable from tests):

1. Start the Cin7 Core and QAD sandboxes in this process, each on a free 127.0.0.1 port.
2. Create a temporary home (SQLite database, generated master key file); the user's own home,
   database and key are never read or touched.
3. Add a connection (local targets allowed), test it, suggest mappings and apply them.
4. Sync (the caller may show progress bars).
5. In the Cin7 sandbox, receive (all open quantity) every INVOICE-first purchase whose invoice is
   held, as a warehouse would, then sync again: the held invoices are released.
6. Summarise: posted POs, receipts, invoices, what is held, blocked or failed and why, what was
   released, the Cin7 calls used and the elapsed time.

Real Cin7 Core allows 60 calls per minute. By default the demo raises the sandbox's limit (and
the connection's pacer) to 6000 per minute so a few hundred purchases finish in about a minute,
and says so; ``--realistic-rate-limit`` keeps 60 and uses fewer purchases.

Every step is a use case (:mod:`ml_connector.usecases`), the same ones the CLI runs; this module
only stages the sandboxes and the temporary home around them. Printing is the caller's.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ml_connector.errors import ConnectorError
from ml_connector.qad.profile import BUILT_IN, CAPABILITIES, QadProfile
from ml_connector.sandbox.cin7 import Cin7Sandbox, Cin7SandboxError, create_cin7_sandbox
from ml_connector.sandbox.connection import sandbox_settings
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.settings import DATABASE_FILE, AppSettings
from ml_connector.store.models import Record
from ml_connector.store.protocols import Store
from ml_connector.sync.engine import Counters, Progress, SyncReport
from ml_connector.usecases import (
    add_connection,
    build_connection,
    open_store,
    ping_connection,
    suggest,
    sync_connection,
)

__all__ = [
    "DEFAULT_PURCHASES",
    "FAST_RATE_LIMIT",
    "REALISTIC_PURCHASES",
    "REALISTIC_RATE_LIMIT",
    "DemoOptions",
    "DemoSummary",
    "Issue",
    "ProgressBars",
    "run_demo",
]

DEFAULT_PURCHASES = 200
REALISTIC_PURCHASES = 100
FAST_RATE_LIMIT = 6000
REALISTIC_RATE_LIMIT = 60
DEMO_SUPPLIERS = 30
CONNECTION_NAME = "demo"

Narrate = Callable[[str], None]
ProgressBars = Callable[[], AbstractContextManager[Progress]]
"""Opens progress bars for one sync and yields the engine's progress callback."""


@dataclass(frozen=True)
class DemoOptions:
    """What to run. ``purchases=None`` picks 200, or 100 with the realistic rate limit."""

    purchases: int | None = None
    realistic_rate_limit: bool = False
    keep_home: bool = False
    seed: int = 7
    suppliers: int = DEMO_SUPPLIERS
    qad_profile: QadProfile = BUILT_IN["rest"]

    @property
    def rate_limit(self) -> int:
        return REALISTIC_RATE_LIMIT if self.realistic_rate_limit else FAST_RATE_LIMIT

    @property
    def purchase_count(self) -> int:
        if self.purchases is not None:
            return self.purchases
        return REALISTIC_PURCHASES if self.realistic_rate_limit else DEFAULT_PURCHASES


@dataclass(frozen=True)
class Issue:
    """A record that did not post, and why."""

    reference: str
    reason: str


@dataclass
class DemoSummary:
    """The demo's figures: totals over both syncs, and the records left held/blocked/failed."""

    purchases: int
    rate_limit: int
    purchase_orders: int = 0
    receipts: int = 0
    invoices: int = 0
    credit_notes: int = 0
    suppliers_created: int = 0
    released: int = 0
    held_after_first_sync: int = 0
    received_in_cin7: list[str] = field(default_factory=list)
    held: list[Issue] = field(default_factory=list)
    blocked: list[Issue] = field(default_factory=list)
    failed: list[Issue] = field(default_factory=list)
    cin7_calls: int = 0
    qad_calls: int = 0
    qad_profile: str = "rest"
    qdocs: int = 0
    elapsed_s: float = 0.0
    home: str | None = None

    def add(self, counters: Counters) -> None:
        self.purchase_orders += counters.purchase_orders
        self.receipts += counters.receipts
        self.invoices += counters.invoices
        self.credit_notes += counters.credit_notes
        self.suppliers_created += counters.suppliers_created
        self.released += counters.released

    def to_json(self) -> dict[str, Any]:
        """One JSON object; counts are ints, reasons are listed beside them."""
        return {
            "purchases": self.purchases,
            "purchase_orders": self.purchase_orders,
            "receipts": self.receipts,
            "invoices": self.invoices,
            "credit_notes": self.credit_notes,
            "suppliers_created": self.suppliers_created,
            "held": len(self.held),
            "held_after_first_sync": self.held_after_first_sync,
            "released": self.released,
            "blocked": len(self.blocked),
            "failed": len(self.failed),
            "cin7_calls": self.cin7_calls,
            "qad_calls": self.qad_calls,
            "qad_profile": self.qad_profile,
            "qdocs": self.qdocs,
            "rate_limit": self.rate_limit,
            "rate_limit_raised": self.rate_limit != REALISTIC_RATE_LIMIT,
            "elapsed_s": round(self.elapsed_s, 1),
            "received_in_cin7": list(self.received_in_cin7),
            "held_reasons": [vars(i) for i in self.held],
            "blocked_reasons": [vars(i) for i in self.blocked],
            "failed_reasons": [vars(i) for i in self.failed],
            "home": self.home,
        }


async def run_demo(
    options: DemoOptions,
    *,
    narrate: Narrate = lambda _line: None,
    observe: Callable[[Cin7Sandbox, QadSandbox], None] | None = None,
    progress: ProgressBars | None = None,
    then: Callable[[AppSettings, DemoSummary], Awaitable[None]] | None = None,
) -> DemoSummary:
    """Run the whole demo (see the module docstring) and return its summary.

    ``narrate`` receives one line per step; ``progress`` opens bars around each sync;
    ``observe`` (for tests) is shown both sandboxes once the flow has finished, before they
    stop. ``then`` (`demo --serve`) is awaited with the demo's settings and its finished
    summary while both sandboxes still run, so the console can replay against them.
    """
    started = time.monotonic()
    summary = DemoSummary(
        purchases=options.purchase_count,
        rate_limit=options.rate_limit,
        qad_profile=options.qad_profile.name,
    )
    cin7_box = create_cin7_sandbox(
        seed=options.seed,
        suppliers=options.suppliers,
        purchases=options.purchase_count,
        rate_limit=options.rate_limit,
    )
    qad_box = create_qad_sandbox(seed=options.seed)
    home = Path(tempfile.mkdtemp(prefix="ml-connector-demo-"))
    try:
        with ServerThread(cin7_box.app) as cin7_server, ServerThread(qad_box.app) as qad_server:
            narrate(
                f"Cin7 Core sandbox: {cin7_server.url}/ExternalApi/v2/ "
                f"({options.purchase_count} purchases, {options.suppliers} suppliers)"
            )
            narrate(f"QAD sandbox:       {qad_box.base_url(qad_server.url)}")
            narrate(f"QAD profile:       {_profile_line(options.qad_profile)}")
            if options.realistic_rate_limit:
                narrate(f"Cin7 rate limit: {options.rate_limit} calls per minute, as in Cin7 Core.")
            else:
                narrate(
                    f"Cin7 rate limit RAISED to {options.rate_limit} calls per minute for this "
                    f"demo (Cin7 Core allows {REALISTIC_RATE_LIMIT}); use --realistic-rate-limit "
                    "to keep the real limit."
                )
            narrate(f"Temporary home:    {home} (SQLite, generated master key)")
            settings = AppSettings(
                home=home, database_url=f"sqlite+aiosqlite:///{home / DATABASE_FILE}"
            )
            async with open_store(settings) as store:
                await _flow(
                    store,
                    options,
                    cin7_box,
                    qad_box,
                    cin7_server.url,
                    qad_server.url,
                    summary,
                    narrate,
                    progress or _no_bars,
                )
            if observe is not None:
                observe(cin7_box, qad_box)
            summary.cin7_calls = int(cin7_box.state.stats()["calls"])
            qad_stats = qad_box.tenant().stats()
            summary.qad_calls = int(qad_stats["calls"])
            summary.qdocs = sum(
                count
                for path, count in qad_stats["by_path"].items()
                if path.startswith("POST /qxi/services/QdocWebService")
            )
            if then is not None:
                summary.elapsed_s = time.monotonic() - started
                await then(settings, summary)
    finally:
        if options.keep_home:
            summary.home = str(home)
        else:
            shutil.rmtree(home, ignore_errors=True)
    summary.elapsed_s = time.monotonic() - started
    return summary


def _profile_line(profile: QadProfile) -> str:
    """`mixed (QXtend for receipts, invoices; REST for the rest)`."""
    via = [c.replace("_", " ") for c in CAPABILITIES if profile.channels.of(c) == "qxtend"]
    if not via:
        return f"{profile.name} (REST for everything)"
    return f"{profile.name} (QXtend QDocs for {', '.join(via)}; REST for the rest)"


def _no_bars() -> AbstractContextManager[Progress]:
    return nullcontext(lambda _phase, _done, _total: None)


async def _flow(
    store: Store,
    options: DemoOptions,
    cin7_box: Cin7Sandbox,
    qad_box: QadSandbox,
    cin7_url: str,
    qad_url: str,
    summary: DemoSummary,
    narrate: Narrate,
    progress: ProgressBars,
) -> None:
    config = await add_connection(
        store,
        build_connection(
            CONNECTION_NAME,
            {
                **sandbox_settings(
                    cin7_box, qad_box, cin7_url=cin7_url, qad_url=qad_box.base_url(qad_url)
                ),
                "cin7_rate_limit": options.rate_limit,
                "qad_profile": options.qad_profile,
            },
        ),
    )
    assert config.id is not None
    for verdict in (await ping_connection(store, CONNECTION_NAME)).failures:
        raise ConnectorError(f"the demo connection test failed: {verdict.message}")
    narrate("Connection test: Cin7 Core ok, QAD ok.")

    suggested = await suggest(store, CONNECTION_NAME, apply=True)
    reports = suggested.reports
    matched = ", ".join(f"{kind} {len(r.suggestions)}" for kind, r in reports.items())
    narrate(f"Mappings suggested and applied: {matched}.")
    unmatched = {
        kind: len(r.unmatched) for kind, r in reports.items() if r.unmatched and kind != "supplier"
    }
    if unmatched:
        narrate(
            "Left unmatched (documents using them will be blocked until mapped): "
            + ", ".join(f"{kind} {n}" for kind, n in unmatched.items())
            + "."
        )

    narrate("Sync 1: polling Cin7 and posting to QAD ...")
    first = await _sync(store, progress)
    summary.add(first.counters)
    c = first.counters
    narrate(
        f"Sync 1 done: {c.purchase_orders} POs, {c.receipts} receipts, {c.invoices} invoices, "
        f"{c.held} held, {c.blocked} blocked, {c.failed} failed."
    )

    held = await store.list_records(config.id, status="held", kind="purchase")
    summary.held_after_first_sync = len(held)
    summary.received_in_cin7 = _receive_invoice_first(cin7_box, held, narrate)
    narrate(
        f"Received the goods of {len(summary.received_in_cin7)} held INVOICE-first purchases "
        "in Cin7; Sync 2 ..."
    )
    second = await _sync(store, progress)
    summary.add(second.counters)
    narrate(f"Sync 2 done: {second.counters.released} held invoices released.")

    for status, bucket in (
        ("held", summary.held),
        ("blocked", summary.blocked),
        ("failed", summary.failed),
    ):
        for record in await store.list_records(config.id, status=status, kind="purchase"):
            bucket.append(Issue(record.reference, record.reason or ""))


async def _sync(store: Store, progress: ProgressBars) -> SyncReport:
    with progress() as bars:
        result = await sync_connection(store, CONNECTION_NAME, actor="demo", progress=bars)
    _check_run(result.report.status, result.report.error)
    return result.report


def _check_run(status: str, error: str | None) -> None:
    if status != "succeeded":
        raise ConnectorError(f"the demo sync stopped: {error or status}")


def _receive_invoice_first(box: Cin7Sandbox, held: list[Record], narrate: Narrate) -> list[str]:
    """Receive all open quantity of each held INVOICE-first purchase, as its warehouse would."""
    received: list[str] = []
    for record in held:
        purchase = box.state.lookup(record.cin7_id)
        if purchase is None or purchase.approach != "INVOICE":
            continue
        try:
            _receive_rest(box, purchase.id)
        except Cin7SandboxError as exc:
            narrate(f"  {record.reference}: Cin7 would not receive it ({exc.message})")
            continue
        received.append(record.reference)
    return received


def _receive_rest(box: Cin7Sandbox, purchase_id: str) -> None:
    try:
        box.state.receive(purchase_id)
    except Cin7SandboxError as exc:
        # Cin7 refuses a second receipt line for the same product, location and day; a draft
        # receipt from earlier today is completed by a delivery the next day.
        if "duplicate" not in exc.message:
            raise
        box.state.receive(purchase_id, date=box.state.now().date() + timedelta(days=1))
