"""Benchmark: many connections on many workers, Cin7 keys shared, judged by the sandboxes.

    .venv/bin/python bench/scale.py --connections 4 --purchases 30 --workers 1,2,4
    .venv/bin/python bench/scale.py --connections 8 --purchases 50 --workers 1,2,4 \\
        --rate-limit 60 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/scale.py --connections 2 --purchases 3 --workers 1,2 \\
        --rate-limit 600                                                   # the CI size

C connections, P purchases each, on C/2 Cin7 application keys: connections 2i and 2i+1 share
key i, as two QAD tenants fed from one Cin7 account do, so the shared pacer has something to
share. For each worker count W the bench starts from nothing: a fresh database beside the one
named (created and dropped here; `--database-url`, else `ML_CONNECTOR_DATABASE_URL`, else
`postgresql+psycopg://postgres@127.0.0.1:5432/test`), both sandboxes in their own processes
(one Cin7 account with the C/2 keys at `--rate-limit` calls per rolling 60 s each, one QAD
sandbox with a tenant per connection), P stock-first purchases (ordered, received, invoiced,
all mapped), `ml-connector db upgrade`, the C connections with their suggested mappings. Then
the clock starts: W `ml-connector worker` processes, one sync job per connection, queued in
the scheduler's order (round-robin over keys: `jobs.defer.key_order`); a connection whose job
ended before all its purchases landed gets another.

Figures come from the sandboxes' own books and statistics, never from the connector's store:

- `purchases_per_s`: C x P over the time from queueing the syncs (the workers are up by then)
  to the last connection having every purchase in QAD (its PO, receipt and invoice:
  `ml_connector.sandbox.truth.landed`);
- `max_calls_per_key_per_60s`: the Cin7 sandbox's `peak_in_window`, the most calls any key sent
  in any rolling 60 s (set-up's `mapping suggest` included: Cin7 counts those too);
- `rate_limited`: Cin7's 429 answers; `duplicates` and `lost`: `truth.audit` per tenant;
- `fairness`: the slowest connection's completion time over the fastest's.

Progress goes to stderr; the last stdout line is exactly `{"workers": {"1": {...}, ...}}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import psycopg

from _harness import ACCOUNT, CLI, CLIENT_ID, PASSWORD, SKUS, Home, cli, log
from ml_connector import eventloop
from ml_connector.sandbox.catalog import DIVERGENCES
from ml_connector.sandbox.process import SandboxProcess
from ml_connector.sandbox.truth import Books, audit, authorised, landed
from ml_connector.settings import load_settings
from ml_connector.store.models import ConnectionConfig
from ml_connector.usecases import add_connection, open_store, suggest

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SYNC_TASK = "ml_connector.sync"
POLL_S = 1.0
REDEFER_AFTER_S = 5.0  # a connection with no job this long, and not done, gets another


def key_of(index: int) -> str:
    """The fake application key of key `index` (stable, so runs compare)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ml-connector/bench/scale/key/{index}"))


@contextmanager
def sandboxes(
    connections: int, rate_limit: int, seed: int
) -> Iterator[tuple[SandboxProcess, SandboxProcess]]:
    keys = [key_of(i) for i in range((connections + 1) // 2)]
    also = [arg for key in keys[1:] for arg in ("--also-key", key)]
    tenants = [arg for i in range(connections) for arg in ("--tenant", f"t{i}")]
    with ExitStack() as stack:
        cin7 = stack.enter_context(
            SandboxProcess(
                "cin7",
                "--seed",
                str(seed),
                "--suppliers",
                "10",
                "--purchases",
                "0",
                "--rate-limit",
                str(rate_limit),
                "--account-id",
                ACCOUNT,
                "--application-key",
                keys[0],
                *also,
            )
        )
        qad = stack.enter_context(
            SandboxProcess(
                "qad", "--client-id", CLIENT_ID, "--password", PASSWORD, *tenants, tenant="t0"
            )
        )
        cin7.wait()
        qad.wait()
        yield cin7, qad


def buy(cin7: SandboxProcess, purchases: int, rng: random.Random) -> None:
    """P stock-first purchases in Cin7: ordered, received and invoiced in full."""
    with httpx.Client(base_url=cin7.control, timeout=60) as http:
        for _ in range(purchases):
            skus = rng.sample(SKUS, rng.choice([1, 2, 3]))
            lines = [{"sku": sku, "quantity": rng.choice([4, 10, 24])} for sku in skus]
            doc = http.post("/purchases", json={"approach": "STOCK", "lines": lines})
            pid = doc.raise_for_status().json()["ID"]
            http.post(f"/purchases/{pid}/receive").raise_for_status()
            http.post(f"/purchases/{pid}/invoice").raise_for_status()


def tenant_control(qad: SandboxProcess, index: int) -> str:
    return f"{qad.url}/t{index}/clouderp/_sandbox"


async def connect(
    home: Home, cin7: SandboxProcess, qad: SandboxProcess, connections: int, rate_limit: int
) -> list[str]:
    """The C connections, each with its suggested mappings, through the use cases."""
    names = [f"c{i}" for i in range(connections)]
    async with open_store(load_settings(home.env)) as store:
        for i, name in enumerate(names):
            settings = {
                "cin7_account_id": ACCOUNT,
                "cin7_application_key": key_of(i // 2),
                "cin7_base_url": cin7.base,
                "cin7_rate_limit": rate_limit,
                "qad_url": f"{qad.url}/t{i}/clouderp",
                "qad_client_id": CLIENT_ID,
                "qad_username": "integration",
                "qad_password": PASSWORD,
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
                "allow_local": True,
            }
            await add_connection(store, ConnectionConfig.from_settings(name, settings))
            await suggest(store, name, apply=True)
    return names


def start_workers(home: Home, count: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    logs = tempfile.TemporaryFile()  # noqa: SIM115 - the workers' chatter; closed with them
    return [
        subprocess.Popen(
            [*CLI, "worker", "--concurrency", str(concurrency)],
            env=home.env,
            stdout=subprocess.DEVNULL,
            stderr=logs,
        )
        for _ in range(count)
    ]


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _libpq(home: Home) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(home.env["ML_CONNECTOR_DATABASE_URL"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def wait_for_workers(home: Home, count: int, within: float = 120.0) -> None:
    """Until `count` workers have registered (Procrastinate's heartbeat table): the clock
    measures syncing, not the interpreters' start-up."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with psycopg.connect(_libpq(home)) as conn:
            try:
                row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
            except psycopg.errors.UndefinedTable:
                row = None
        if row is not None and int(row[0]) >= count:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{count} worker(s) did not start within {within:.0f} s")


def queued(home: Home) -> set[str]:
    """Connections with a sync job waiting or running."""
    with psycopg.connect(_libpq(home)) as conn:
        rows = conn.execute(
            "SELECT args->>'connection' FROM procrastinate_jobs "
            "WHERE task_name = %s AND status IN ('todo', 'doing')",
            (SYNC_TASK,),
        ).fetchall()
    return {str(row[0]) for row in rows}


def books_of(http: httpx.Client, cin7: SandboxProcess, qad: SandboxProcess, i: int) -> Books:
    ledger = http.get(f"{cin7.control}/ledger").raise_for_status().json()
    state = http.get(f"{tenant_control(qad, i)}/state").raise_for_status().json()
    journal = http.get(f"{tenant_control(qad, i)}/journal").raise_for_status().json()
    return Books(ledger, state, journal)


def complete(books: Books) -> bool:
    codes = DIVERGENCES.item_codes
    return all(not landed(books, e, item_codes=codes) for e in books.ledger if authorised(e))


async def drive(
    home: Home,
    names: list[str],
    cin7: SandboxProcess,
    qad: SandboxProcess,
    started: float,
    give_up_after: float,
) -> tuple[dict[str, float], int]:
    """Queue one sync per connection, in the scheduler's key order; poll the books until
    every connection landed."""
    from ml_connector.jobs.app import job_app
    from ml_connector.jobs.defer import defer_sync, key_order

    async with open_store(load_settings(home.env)) as store:
        configs = [await store.get_connection(name) for name in names]
    app = job_app(home.env["ML_CONNECTOR_DATABASE_URL"])
    done: dict[str, float] = {}
    redeferred = 0
    idle_since: dict[str, float] = {}
    async with app.open_async():
        for config, priority in key_order(configs):
            await defer_sync(app, config.name, priority=priority)
        with httpx.Client(timeout=60) as http:
            while len(done) < len(names):
                if time.monotonic() - started > give_up_after:
                    log(f"timed out with {len(names) - len(done)} connection(s) unfinished")
                    break
                await asyncio.sleep(POLL_S)
                for i, name in enumerate(names):
                    if name not in done and complete(books_of(http, cin7, qad, i)):
                        done[name] = time.monotonic() - started
                        log(f"{name} landed after {done[name]:.1f} s")
                waiting = queued(home)
                now = time.monotonic()
                for name in names:
                    if name in done or name in waiting:
                        idle_since.pop(name, None)
                        continue
                    if now - idle_since.setdefault(name, now) >= REDEFER_AFTER_S:
                        await defer_sync(app, name)
                        idle_since.pop(name)
                        redeferred += 1
                        log(f"{name}: its job ended before it landed; queued again")
    return done, redeferred


def run(workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """One worker count, from nothing (see the module docstring)."""
    home = Home(args.database_url)
    try:
        with sandboxes(args.connections, args.rate_limit, args.seed) as (cin7, qad):
            buy(cin7, args.purchases, random.Random(args.seed))
            cli(home, "db", "upgrade")
            names = eventloop.run(connect(home, cin7, qad, args.connections, args.rate_limit))
            procs = start_workers(home, workers, args.concurrency)
            try:
                wait_for_workers(home, workers)
                log(f"{workers} worker(s) up, {len(names)} connections set up; go")
                started = time.monotonic()
                done, redeferred = eventloop.run(
                    drive(home, names, cin7, qad, started, args.timeout)
                )
            finally:
                stop_workers(procs)
            with httpx.Client(timeout=60) as http:
                verdicts = [
                    audit(books_of(http, cin7, qad, i), item_codes=DIVERGENCES.item_codes)
                    for i in range(len(names))
                ]
                stats = http.get(f"{cin7.control}/stats").raise_for_status().json()
    finally:
        home.close()
    times = [done.get(name) for name in names]
    finished = [t for t in times if t is not None]
    last = max(finished) if len(finished) == len(names) else None
    by_key = stats["by_key"].values()
    return {
        "purchases_per_s": round(len(names) * args.purchases / last, 3) if last else 0.0,
        "max_calls_per_key_per_60s": max((k["peak_in_window"] for k in by_key), default=0),
        "rate_limited": int(stats["rate_limited"]),
        "duplicates": sum(v.duplicates for v in verdicts),
        "lost": sum(v.lost for v in verdicts),
        "fairness": round(max(finished) / min(finished), 3) if last else None,
        "elapsed_s": round(last, 1) if last else None,
        "completion_s": [round(t, 1) if t is not None else None for t in times],
        "cin7_calls": int(stats["calls"]),
        "redeferred": redeferred,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, required=True, help="C (2 per Cin7 key)")
    parser.add_argument("--purchases", type=int, required=True, help="P per connection")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, e.g. 1,2,4")
    parser.add_argument("--rate-limit", type=int, default=60, help="Cin7 calls per 60 s per key")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ML_CONNECTOR_DATABASE_URL") or DEFAULT_DATABASE,
        help="a PostgreSQL server; the bench makes a fresh database there per worker count",
    )
    parser.add_argument("--concurrency", type=int, default=1, help="jobs per worker process")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per worker count")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.connections < 1 or args.purchases < 1:
        parser.error("--connections and --purchases must be at least 1")
    if not args.database_url.startswith("postgresql"):
        parser.error("workers need PostgreSQL: give --database-url postgresql+psycopg://…")
    counts = [int(part) for part in args.workers.split(",") if part.strip()]
    figures = {str(count): run(count, args) for count in counts}
    print(json.dumps({"workers": figures}), flush=True)


if __name__ == "__main__":
    main()
