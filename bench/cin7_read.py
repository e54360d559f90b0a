"""Benchmark: a first sync's Cin7 read through the client, against the sandbox in its own process.

    .venv/bin/python bench/cin7_read.py --purchases 120 --rate-limit 60
    .venv/bin/python bench/cin7_read.py --purchases 2000 --rate-limit 100000

Starts `ml-connector sandbox cin7` on 127.0.0.1 with that rate limit, then reads the reference
data, the suppliers, the purchase list and one detail per purchase (routed by `Type`), as the
first sync of a new connection would. Progress goes to stderr; the last line of stdout is one
JSON object:

- `purchases`, `calls` (HTTP requests the client sent), `calls_per_purchase`;
- `budget_share`: calls / (limit x minutes elapsed), the share of the rate budget used
  (target ≥ 0.95 at the real limit, when we are the only caller);
- `rate_limited`: 429/503 answers received (target 0 when alone);
- `elapsed_s`, `purchases_per_s`, and the call split (`reference_calls`, `list_calls`,
  `detail_calls`) with `calls_bound` = N + ceil(N/1000) + reference calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
import uuid
from typing import Any

import httpx

from ml_connector import eventloop
from ml_connector.cin7 import Cin7Client, LocalPacer, PurchaseListRow
from ml_connector.sandbox.process import SandboxProcess

ACCOUNT_ID = str(uuid.UUID(int=0x0B7E54A36C1D4F0E9A2B3C4D5E6F7A8B))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def read(args: argparse.Namespace, base: str, key: str) -> dict[str, Any]:
    pacer = LocalPacer(limit=args.rate_limit)
    client = Cin7Client(ACCOUNT_ID, key, base_url=f"{base}/ExternalApi/v2/", pacer=pacer)
    async with client:
        started = time.monotonic()
        company = await client.ping()
        accounts = await client.accounts()
        products = [p async for p in client.products()]
        locations = await client.locations()
        taxes = await client.tax_rules()
        terms = await client.payment_terms()
        suppliers = [s async for s in client.suppliers()]
        reference_calls = client.calls
        log(
            f"{company.company}: {len(accounts)} accounts, {len(products)} products, "
            f"{len(locations)} locations, {len(taxes)} tax rules, {len(terms)} terms, "
            f"{len(suppliers)} suppliers in {reference_calls} calls"
        )
        listed: list[PurchaseListRow] = [row async for row in client.purchase_list()]
        list_calls = client.calls - reference_calls
        log(f"{len(listed)} purchases listed in {list_calls} calls")

        queue: asyncio.Queue[PurchaseListRow] = asyncio.Queue()
        for row in listed:
            queue.put_nowait(row)
        done = 0
        kinds: dict[str, int] = {}
        last_report = time.monotonic()

        async def worker() -> None:
            nonlocal done, last_report
            while not queue.empty():
                row = queue.get_nowait()
                purchase = await client.purchase(row.id or "", row.type)
                kinds[purchase.type] = kinds.get(purchase.type, 0) + 1
                done += 1
                now = time.monotonic()
                if now - last_report >= 5 or done == len(listed):
                    last_report = now
                    log(
                        f"  {done}/{len(listed)} purchases, {client.calls} calls, "
                        f"{client.rate_limited} rate limited, {now - started:.1f} s"
                    )

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.monotonic() - started
        calls = client.calls
        detail_calls = calls - reference_calls - list_calls
        log(f"detail types: {kinds}")
        purchases = len(listed)
        return {
            "purchases": purchases,
            "calls": calls,
            "calls_per_purchase": round(calls / purchases, 4) if purchases else None,
            "budget_share": round(calls / (args.rate_limit * elapsed / 60.0), 4),
            "rate_limited": client.rate_limited,
            "elapsed_s": round(elapsed, 3),
            "purchases_per_s": round(purchases / elapsed, 2),
            "rate_limit": args.rate_limit,
            "reference_calls": reference_calls,
            "list_calls": list_calls,
            "detail_calls": detail_calls,
            "calls_bound": purchases + math.ceil(purchases / 1000) + reference_calls,
            "pacer_waited_s": round(pacer.waited, 3),
            "concurrency": args.concurrency,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, required=True)
    parser.add_argument("--rate-limit", type=int, required=True, help="calls per minute")
    parser.add_argument("--suppliers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=1, help="detail calls in flight")
    args = parser.parse_args()

    key = str(uuid.uuid4())
    log(f"starting the Cin7 sandbox ({args.purchases} purchases, {args.rate_limit}/min)")
    with SandboxProcess(
        "cin7",
        "--seed",
        str(args.seed),
        "--suppliers",
        str(args.suppliers),
        "--purchases",
        str(args.purchases),
        "--rate-limit",
        str(args.rate_limit),
        "--account-id",
        ACCOUNT_ID,
        "--application-key",
        key,
    ) as sandbox:
        result = await read(args, sandbox.url, key)
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{sandbox.control}/stats")).json()
        result["server_calls"] = stats.get("calls")
        result["server_rate_limited"] = stats.get("rate_limited")
    print(json.dumps(result))


if __name__ == "__main__":
    eventloop.run(main())
