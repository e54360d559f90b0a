"""Benchmark: one full first sync of N purchases, the connector in its own process.

    .venv/bin/python bench/sync.py --purchases 1000
    .venv/bin/python bench/sync.py --purchases 10000
    .venv/bin/python bench/sync.py --purchases 200 --qad-latency-ms 150 --qad-profile mixed

Both sandboxes run in their own processes on 127.0.0.1 with the Cin7 rate limit lifted. The
parent creates a connection in a temporary home (SQLite) on the QAD profile `--qad-profile`
(`rest` by default, or `qxtend`, `mixed`, a TOML file) and applies the suggested mappings; then
the QAD sandbox delays every API call by `--qad-latency-ms` (0 by default), and a child process
runs the sync use case once and reports its own CPU time (user + sys), peak RSS from
`getrusage`, and the SQL statements it sent (`ml_connector.store.db.count_statements`).

Progress goes to stderr; the last line of stdout is one JSON object: `purchases`, `elapsed_s`,
`purchases_per_s`, `connector_cpu_ms_per_purchase`, `sandbox_cpu_ms_per_purchase` (both
sandboxes together, for comparison), `cpu_ratio` (connector / sandboxes),
`sql_statements_per_purchase`, `peak_rss_mb`, `cin7_calls`, `qad_calls`, `event_loop` (the
child's: `uvloop`, or `asyncio` where uvloop is not installed or `ML_CONNECTOR_EVENT_LOOP` says
so; the sandboxes always run on asyncio's), the run's record counts, and the bottleneck at
Cin7's real budget: `cin7_budget_s` is how long the pass's Cin7 calls take at 60 calls per
rolling minute, and `bottleneck` is `cin7` when that is longer than the measured pass (QAD
posting keeps up), else `qad`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ml_connector import eventloop
from ml_connector.qad.profile import ProfileError, load_profile
from ml_connector.sandbox.process import SandboxProcess
from ml_connector.settings import load_settings
from ml_connector.store.db import count_statements
from ml_connector.store.models import ConnectionConfig
from ml_connector.usecases import add_connection, open_store, suggest, sync_connection
from ml_connector.vault import Vault

ACCOUNT = "7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a"
KEY = "1f2e3d4c-5b6a-4978-8a7b-6c5d4e3f2a1b"
CLIENT_ID = "be0c4beeb00c4beeb00c4beeb00c4bee"
PASSWORD = "bench-not-a-secret"
CIN7_CALLS_PER_MINUTE = 60


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def setup(cin7_base: str, qad_base: str, profile: dict[str, Any]) -> None:
    async with open_store(load_settings()) as store:
        await add_connection(
            store,
            ConnectionConfig.from_settings(
                "bench",
                {
                    "cin7_account_id": ACCOUNT,
                    "cin7_application_key": KEY,
                    "cin7_base_url": cin7_base,
                    "qad_url": qad_base,
                    "qad_client_id": CLIENT_ID,
                    "qad_username": "integration",
                    "qad_password": PASSWORD,
                    "qad_domain": "10USA",
                    "qad_entity": "10USACO",
                    "allow_local": True,
                    "cin7_rate_limit": 1_000_000,
                    "qad_profile": profile,
                },
            ),
        )
        await suggest(store, "bench", apply=True)


async def child() -> dict[str, Any]:
    """The measured part: one sync, in this process."""
    done = 0

    def progress(phase: str, count: int, total: int | None) -> None:
        nonlocal done
        if phase == "posting" and count - done >= 500:
            done = count
            log(f"  posted {count} records")

    async with open_store(load_settings()) as store:
        started = time.perf_counter()
        with count_statements(store.engine) as counted:
            result = await sync_connection(store, "bench", actor="bench", progress=progress)
        elapsed = time.perf_counter() - started
        counts = await store.count_records(await store.connection_id("bench"))
    report = result.report
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "status": report.status,
        "elapsed_s": round(elapsed, 2),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "event_loop": eventloop.loop_name(),
        "cin7_calls": report.counters.cin7_calls,
        "qad_calls": report.counters.qad_calls,
        "sql_statements": counted.statements,
        "records": counts,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of another process so far (Linux `/proc/<pid>/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--suppliers", type=int, default=60)
    parser.add_argument("--qad-profile", default="rest", help="rest, qxtend, mixed or a TOML file")
    parser.add_argument(
        "--qad-latency-ms", type=float, default=0.0, help="QAD sandbox delay per API call"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(eventloop.run(child())))
        return
    try:
        profile = load_profile(args.qad_profile)
    except ProfileError as exc:
        parser.error(str(exc))

    home = tempfile.mkdtemp(prefix="mlc-bench-")
    os.environ.update(ML_CONNECTOR_HOME=home, ML_CONNECTOR_MASTER_KEY=Vault.generate_key())
    os.environ.pop("ML_CONNECTOR_DATABASE_URL", None)
    log(f"starting sandboxes with {args.purchases} purchases")
    with (
        SandboxProcess(
            "cin7",
            "--purchases",
            str(args.purchases),
            "--suppliers",
            str(args.suppliers),
            "--rate-limit",
            "1000000",
            "--account-id",
            ACCOUNT,
            "--application-key",
            KEY,
        ) as cin7,
        SandboxProcess("qad", "--client-id", CLIENT_ID, "--password", PASSWORD) as qad,
    ):
        eventloop.run(setup(cin7.base, qad.base, profile.stored()))
        if args.qad_latency_ms:
            httpx.post(
                f"{qad.control}/faults", json={"latency_ms": args.qad_latency_ms}
            ).raise_for_status()
        sandbox_cpu = cpu_seconds(cin7.pid) + cpu_seconds(qad.pid)
        log("syncing in a child process")
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child"],
            check=True,
            capture_output=True,
            text=True,
        )
        sandbox_cpu = cpu_seconds(cin7.pid) + cpu_seconds(qad.pid) - sandbox_cpu
    result = json.loads(out.stdout.strip().splitlines()[-1])
    n = args.purchases
    cin7_budget_s = 60 * result["cin7_calls"] / CIN7_CALLS_PER_MINUTE
    print(
        json.dumps(
            {
                "purchases": n,
                "qad_profile": profile.name,
                "qad_latency_ms": args.qad_latency_ms,
                "elapsed_s": result["elapsed_s"],
                "purchases_per_s": round(n / result["elapsed_s"], 1),
                "connector_cpu_ms_per_purchase": round(1000 * result["cpu_s"] / n, 2),
                "sandbox_cpu_ms_per_purchase": round(1000 * sandbox_cpu / n, 2),
                "cpu_ratio": round(result["cpu_s"] / sandbox_cpu, 2),
                "sql_statements_per_purchase": round(result["sql_statements"] / n, 1),
                "cin7_budget_s": cin7_budget_s,
                "bottleneck": "cin7" if cin7_budget_s > result["elapsed_s"] else "qad",
                "peak_rss_mb": result["peak_rss_mb"],
                "event_loop": result["event_loop"],
                "cin7_calls": result["cin7_calls"],
                "qad_calls": result["qad_calls"],
                "status": result["status"],
                "records": result["records"],
            }
        )
    )


if __name__ == "__main__":
    main()
