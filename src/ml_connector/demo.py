"""`ml-connector demo`: the whole job on one command, against both sandboxes.

The flow (:func:`run_demo`, callable from tests):

1. Start the Cin7 Core and QAD sandboxes in this process, each on a free 127.0.0.1 port.
2. Create a temporary home (SQLite database, generated master key file); the user's own home,
   database and key are never read or touched.
3. Add a connection (local targets allowed), test it, suggest mappings and apply them.
4. Sync, with progress bars when stderr is a terminal.
5. In the Cin7 sandbox, receive (all open quantity) every INVOICE-first purchase whose invoice is
   held, as a warehouse would, then sync again: the held invoices are released.
6. Summarise: posted POs, receipts, invoices, what is held, blocked or failed and why, what was
   released, the Cin7 calls used and the elapsed time.

Real Cin7 Core allows 60 calls per minute. By default the demo raises the sandbox's limit (and
the connection's pacer) to 6000 per minute so a few hundred purchases finish in about a minute,
and says so; ``--realistic-rate-limit`` keeps 60 and uses fewer purchases.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from ml_connector.console import (
    EXIT_OK,
    SyncProgress,
    emit,
    emit_json,
    say,
    table,
)
from ml_connector.errors import ConnectorError
from ml_connector.sandbox.cin7 import Cin7Sandbox, Cin7SandboxError, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.settings import DATABASE_FILE, AppSettings
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.repo import Store
from ml_connector.sync.connect import check_connection, cin7_client, qad_client
from ml_connector.sync.engine import Counters, SyncEngine
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault

__all__ = [
    "DEFAULT_PURCHASES",
    "FAST_RATE_LIMIT",
    "REALISTIC_PURCHASES",
    "REALISTIC_RATE_LIMIT",
    "DemoOptions",
    "DemoSummary",
    "Issue",
    "demo_command",
    "demo_tables",
    "run_demo",
]

DEFAULT_PURCHASES = 200
REALISTIC_PURCHASES = 100
FAST_RATE_LIMIT = 6000
REALISTIC_RATE_LIMIT = 60
DEMO_SUPPLIERS = 30
CONNECTION_NAME = "demo"
_LISTED = 10

Narrate = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """What to run. ``purchases=None`` picks 200, or 100 with the realistic rate limit."""

    purchases: int | None = None
    realistic_rate_limit: bool = False
    keep_home: bool = False
    seed: int = 7
    suppliers: int = DEMO_SUPPLIERS
    show_progress: bool | None = None  # None: bars when stderr is a terminal

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
) -> DemoSummary:
    """Run the whole demo (see the module docstring) and return its summary.

    ``narrate`` receives one line per step; ``observe`` (for tests) is shown both sandboxes
    once the flow has finished, before they stop.
    """
    started = time.monotonic()
    summary = DemoSummary(purchases=options.purchase_count, rate_limit=options.rate_limit)
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
            store = await Store.open(settings.database_url, Vault.from_settings(settings))
            try:
                await _flow(
                    store,
                    options,
                    cin7_box,
                    qad_box,
                    cin7_server.url,
                    qad_server.url,
                    summary,
                    narrate,
                )
            finally:
                await store.close()
            if observe is not None:
                observe(cin7_box, qad_box)
        summary.cin7_calls = int(cin7_box.state.stats()["calls"])
        summary.qad_calls = int(qad_box.tenant().stats()["calls"])
    finally:
        if options.keep_home:
            summary.home = str(home)
        else:
            shutil.rmtree(home, ignore_errors=True)
    summary.elapsed_s = time.monotonic() - started
    return summary


async def _flow(
    store: Store,
    options: DemoOptions,
    cin7_box: Cin7Sandbox,
    qad_box: QadSandbox,
    cin7_url: str,
    qad_url: str,
    summary: DemoSummary,
    narrate: Narrate,
) -> None:
    tenant = qad_box.tenant()
    config = await store.add_connection(
        ConnectionConfig(
            name=CONNECTION_NAME,
            cin7_account_id=cin7_box.account_id,
            cin7_application_key=cin7_box.application_key,
            cin7_base_url=f"{cin7_url}/ExternalApi/v2/",
            qad_base_url=qad_box.base_url(qad_url),
            qad_client_id=tenant.client_id,
            qad_username=tenant.username,
            qad_password=tenant.password,
            qad_domain=tenant.domain,
            qad_entity=tenant.entity,
            allow_local=True,
            options={"cin7_rate_limit": options.rate_limit},
        )
    )
    assert config.id is not None
    for verdict in await check_connection(config):
        if not verdict.ok:
            raise ConnectorError(f"the demo connection test failed: {verdict.message}")
    narrate("Connection test: Cin7 Core ok, QAD ok.")

    async with cin7_client(config) as cin7, qad_client(config) as qad:
        reports = await suggest_mappings(store, config.id, cin7, qad, apply=True)
        matched = ", ".join(f"{kind} {len(r.suggestions)}" for kind, r in reports.items())
        narrate(f"Mappings suggested and applied: {matched}.")
        unmatched = {
            kind: len(r.unmatched)
            for kind, r in reports.items()
            if r.unmatched and kind != "supplier"
        }
        if unmatched:
            narrate(
                "Left unmatched (documents using them will be blocked until mapped): "
                + ", ".join(f"{kind} {n}" for kind, n in unmatched.items())
                + "."
            )

        engine = SyncEngine(store, config, cin7, qad, actor="demo")
        narrate("Sync 1: polling Cin7 and posting to QAD ...")
        with SyncProgress(enabled=options.show_progress) as bars:
            engine.progress = bars.update
            first = await engine.sync()
        _check_run(first.status, first.error)
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
        with SyncProgress(enabled=options.show_progress) as bars:
            engine.progress = bars.update
            second = await engine.sync()
        _check_run(second.status, second.error)
        summary.add(second.counters)
        narrate(f"Sync 2 done: {second.counters.released} held invoices released.")

    for status, bucket in (
        ("held", summary.held),
        ("blocked", summary.blocked),
        ("failed", summary.failed),
    ):
        for record in await store.list_records(config.id, status=status, kind="purchase"):
            bucket.append(Issue(record.reference, record.reason or ""))


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


# --- output -------------------------------------------------------------------------------------


def _issues(title: str, issues: list[Issue]) -> RenderableType:
    shown = issues[:_LISTED]
    more = len(issues) - len(shown)
    return table(
        title,
        ["reference", "reason"],
        ([i.reference, i.reason] for i in shown),
        caption=f"… and {more} more" if more else None,
    )


def demo_tables(summary: DemoSummary) -> list[RenderableType]:
    rate = f"{summary.rate_limit} calls/min" + (
        " (raised for the demo)" if summary.rate_limit != REALISTIC_RATE_LIMIT else ""
    )
    out: list[RenderableType] = [
        table(
            f"Demo: {summary.purchases} Cin7 purchases into QAD",
            ["", ("value", "right")],
            [
                ("purchase orders posted", summary.purchase_orders),
                ("receipts posted", summary.receipts),
                ("invoices posted", summary.invoices),
                ("credit notes posted", summary.credit_notes),
                ("suppliers created in QAD", summary.suppliers_created),
                ("held after sync 1", summary.held_after_first_sync),
                ("released after receiving", summary.released),
                ("held now", len(summary.held)),
                ("blocked", len(summary.blocked)),
                ("failed", len(summary.failed)),
                ("Cin7 calls used", summary.cin7_calls),
                ("QAD calls", summary.qad_calls),
                ("Cin7 rate limit", rate),
                ("elapsed", f"{summary.elapsed_s:.1f} s"),
            ],
        )
    ]
    if summary.held:
        out.append(_issues("Held (waiting for goods receipts in QAD)", summary.held))
    if summary.blocked:
        out.append(_issues("Blocked (a mapping is missing)", summary.blocked))
    if summary.failed:
        out.append(_issues("Failed", summary.failed))
    if summary.home:
        out.append(Text(f"Home kept at {summary.home}"))
    return out


async def demo_command(options: DemoOptions, as_json: bool) -> int:
    """`ml-connector demo`: narration on stdout (stderr with --json), then the summary."""
    summary = await run_demo(options, narrate=lambda line: say(line, err=as_json))
    if as_json:
        emit_json(summary.to_json())
    else:
        emit(*demo_tables(summary))
    return EXIT_OK
