"""Benchmark: post five-line POs with one receipt each into the QAD sandbox, at concurrency 1-8.

    .venv/bin/python bench/qad_post.py --purchase-orders 40 --latency-ms 20 [--channel qxtend]

Starts `ml-connector sandbox qad` on 127.0.0.1 in its own process (so the server's event loop
does not share a CPU core with the client's), sets the latency fault, creates one supplier, then
for each concurrency in 1, 2, 4, 8 posts N fresh five-line purchase orders through
`ensure_purchase_order` and receives each in full through `post_receipt_once` (the operations
over the channel `--channel` names: `rest`, or `qxtend` — POs and receipts as QDocs, their
look-ups and read-backs over REST), with that many POs in flight. Progress goes to stderr; the
last line of stdout is one JSON object:

- `channel`: the channel POs and receipts went through;
- `po_per_s`: POs (with their receipt) per second, keyed by concurrency;
- `calls_per_po`: calls the client sent per PO and receipt, every one counted: look-ups before
  creating, QDocs, REST writes and field changes, read-backs (`server_calls` must agree);
- `server_calls_by_kind`: the sandbox's count per route (QDocs by name), over the whole run;
- `token_requests`: token requests over the whole run (1 with the default 1800 s lifetime);
- `scaling`: po_per_s at each concurrency divided by po_per_s at 1 (ideal: 1, 2, 4, 8);
- `server_calls`, `elapsed_s` per concurrency, `latency_ms`, `purchase_orders`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from typing import Any

import httpx

from ml_connector import eventloop
from ml_connector.qad import (
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    QadOperations,
    QadSettings,
    ReceiptSpec,
    SupplierSpec,
)
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.profile import BUILT_IN
from ml_connector.qad.rest import RestChannel
from ml_connector.qad.routing import RoutedChannel, build_channel
from ml_connector.sandbox.process import SandboxProcess

CLIENT_ID = "0123456789abcdef0123456789abcdef"
USERNAME = "integration"
PASSWORD = "bench-not-a-secret"
ITEMS = (
    ("WID-100", "12.5"),
    ("WID-150", "14.75"),
    ("BRK-20", "1.75"),
    ("BRK-40", "2.3"),
    ("NUT-M8", "6.4"),
)
CONCURRENCY = (1, 2, 4, 8)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def purchase_order(number: str) -> PurchaseOrderSpec:
    return PurchaseOrderSpec(
        number=number,
        supplier_code="BENCH01",
        currency="USD",
        order_date=dt.date(2026, 3, 2),
        due_date=dt.date(2026, 3, 16),
        remarks=f"bench {number}",
        lines=[
            PurchaseOrderLineSpec(
                line=n + 1,
                item_code=code,
                quantity=Decimal(5 * (n + 1)),
                unit_cost=Decimal(cost),
            )
            for n, (code, cost) in enumerate(ITEMS)
        ],
    )


async def post_one(qad: QadOperations, number: str) -> None:
    spec = purchase_order(number)
    result = await qad.ensure_purchase_order(spec)
    if not result.created or len(result.lines_added) != len(ITEMS):
        raise SystemExit(f"PO {number} was not created as expected: {result}")
    receipt = await qad.post_receipt_once(
        ReceiptSpec(
            po_number=number,
            packing_slip=f"PS-{number}",
            effective_date=dt.date(2026, 3, 10),
            lines=[(line.line, line.quantity) for line in spec.lines],
        )
    )
    if not (receipt.created and receipt.verified):
        raise SystemExit(f"receipt for {number} was not verified: {receipt}")


async def run_round(
    qad: QadOperations, concurrency: int, count: int, prefix: str
) -> tuple[float, int]:
    """Post `count` POs numbered `prefix` + digits with `concurrency` in flight."""
    numbers = [f"{prefix}{n:0{8 - len(prefix)}d}" for n in range(count)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for number in numbers:
        queue.put_nowait(number)
    calls_before = qad.channel.calls
    started = time.monotonic()

    async def worker() -> None:
        while not queue.empty():
            await post_one(qad, queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started, qad.channel.calls - calls_before


async def bench(args: argparse.Namespace, base: str) -> dict[str, Any]:
    settings = QadSettings(
        base_url=f"{base}/acme/clouderp",
        client_id=CLIENT_ID,
        username=USERNAME,
        password=PASSWORD,
        default_site="10-100",
        allow_local=True,
    )
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{settings.base_url}/_sandbox/faults", json={"latency_ms": args.latency_ms}
        )
    po_per_s: dict[str, float] = {}
    elapsed: dict[str, float] = {}
    total_calls = 0
    total_pos = 0
    channel: QadChannel = build_channel(
        settings, BUILT_IN[args.channel], max_concurrency=max(CONCURRENCY)
    )
    async with channel:
        await channel.ping()
        qad = QadOperations(channel)
        await qad.ensure_supplier(
            SupplierSpec(code="BENCH01", name="Bench Supplier", currency="USD", credit_terms="N30")
        )
        for concurrency in CONCURRENCY:
            seconds, calls = await run_round(
                qad, concurrency, args.purchase_orders, f"B{concurrency}"
            )
            rate = args.purchase_orders / seconds
            po_per_s[str(concurrency)] = round(rate, 2)
            elapsed[str(concurrency)] = round(seconds, 3)
            total_calls += calls
            total_pos += args.purchase_orders
            log(
                f"  concurrency {concurrency}: {args.purchase_orders} POs in {seconds:.2f} s, "
                f"{rate:.2f} PO/s, {calls / args.purchase_orders:.1f} calls/PO"
            )
        rest = channel.suppliers_via if isinstance(channel, RoutedChannel) else channel
        token_requests = rest.token_requests if isinstance(rest, RestChannel) else None
    async with httpx.AsyncClient() as http:
        stats = (await http.get(f"{settings.base_url}/_sandbox/stats")).json()
    single = po_per_s["1"]
    return {
        "channel": args.channel,
        "po_per_s": po_per_s,
        "calls_per_po": round(total_calls / total_pos, 2),
        "token_requests": token_requests,
        "scaling": {k: round(v / single, 2) for k, v in po_per_s.items()},
        "elapsed_s": elapsed,
        "server_calls": stats.get("calls"),
        "server_calls_by_kind": stats.get("by_path"),
        "server_token_requests": stats.get("token_requests"),
        "latency_ms": args.latency_ms,
        "purchase_orders": args.purchase_orders,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--purchase-orders", type=int, default=40, help="POs per concurrency")
    parser.add_argument("--latency-ms", type=float, default=20, help="added per API call")
    parser.add_argument(
        "--channel",
        choices=("rest", "qxtend"),
        default="rest",
        help="the channel POs and receipts go through (suppliers always take REST)",
    )
    args = parser.parse_args()

    log(f"starting the QAD sandbox (latency {args.latency_ms} ms per call, {args.channel})")
    with SandboxProcess(
        "qad", "--client-id", CLIENT_ID, "--username", USERNAME, "--password", PASSWORD
    ) as sandbox:
        result = await bench(args, sandbox.url)
    print(json.dumps(result))


if __name__ == "__main__":
    eventloop.run(main())
