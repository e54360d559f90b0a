"""Benchmark: SIGKILL the real `ml-connector sync` K times under faults on both sides, then prove
from the sandboxes' books that nothing was lost, posted twice or invoiced early.

    .venv/bin/python bench/chaos.py --purchases 1000 --kills 10
    .venv/bin/python bench/chaos.py --purchases 1000 --kills 10 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/chaos.py --purchases 20 --kills 2        # the CI size

Both sandboxes run in their own processes on 127.0.0.1 and outlive every kill. The Cin7
sandbox starts empty and the bench creates the purchases through its control endpoints, a mix
of what a buyer does: stock first and invoice first, Simple and Advanced with split deliveries,
freight, credit notes with returns, orders not yet received, and invoice-first purchases only
partly received, whose remaining goods arrive halfway through the kills (their invoices are held,
then released). Every reference maps, so every purchase must end up wholly in QAD.

Faults, from the first pass on: 5 % 5xx and 2 % timeouts on both sides (longer than the
connection's timeouts, 1.5 s for Cin7 and 2.5 s for QAD; a QAD write that times out is carried
out anyway), 429 bursts on both sides, 2 % of QAD writes carried out but answered with a lost
(502) response, 1 % of receipts answered success but posted silently not at all, and QAD access
tokens that live 20 s.

`ml-connector sync` runs as a child process and is SIGKILLed after a random delay shorter than a
pass (the last pass that ran to its end, or an estimate before one has), until exactly K kills
have happened; then it runs to completion (until a pass ends with nothing left to retry, exit 0
or 1; at most 20 passes, faults still on). A PostgreSQL `--database-url` names a server: the
bench creates a fresh database there and drops it afterwards. `--qad-profile` is stored with the
connection (`rest`, `qxtend` or `mixed`).

Last stdout line, one JSON object: `purchases`, `kills`, `faults` (injected, by side and kind,
from the sandboxes' stats), `duplicates`, `lost`, `early_invoices`, `receipt_mismatches` (from the
sandboxes' books: `ml_connector.sandbox.truth`), `audit_ok` (`ml-connector audit verify`),
`elapsed_s`, and `passes`, `backend`, `qad_profile`.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from typing import Any

from _harness import (
    SKUS,
    Cin7Control,
    Home,
    Pass,
    cli,
    connect,
    log,
    records,
    sandboxes,
    sync,
)
from ml_connector.qad.profile import ProfileError, load_profile
from ml_connector.sandbox.catalog import DIVERGENCES
from ml_connector.sandbox.truth import audit, read_books

CIN7_FAULTS = {
    "error_rate": 0.05,
    "timeout_rate": 0.02,
    "timeout_seconds": 2,
    "burst_rate": 0.004,
    "burst_seconds": 2,
}
QAD_FAULTS = {
    "error_rate": 0.05,
    "timeout_rate": 0.02,
    "timeout_seconds": 3,
    "burst_rate": 0.004,
    "burst_seconds": 2,
    "lost_response_rate": 0.02,
    "silent_receipt_rate": 0.01,
}
TIMEOUTS = {"cin7_timeout": 1.5, "qad_timeout": 2.5}
MIN_KILL_S = 1.0  # the command needs at least this long to import and start its pass
MAX_FINISHING_PASSES = 20


class Buyer:
    """Creates the bench's purchases in the Cin7 sandbox, as a buyer would."""

    def __init__(self, cin7: Cin7Control, rng: random.Random) -> None:
        self.cin7 = cin7
        self.rng = rng
        self.suppliers = [s["ID"] for s in cin7.suppliers() if s.get("Status") == "Active"]
        self.partial: list[str] = []  # invoice first, goods still to come

    def _lines(self) -> list[dict[str, Any]]:
        skus = self.rng.sample(SKUS, self.rng.choice([1, 2, 2, 3, 4]))
        return [{"sku": sku, "quantity": self.rng.choice([4, 6, 10, 12, 24, 40])} for sku in skus]

    def _new(self, approach: str, *, advanced: bool = False, freight: bool = False) -> str:
        body: dict[str, Any] = {
            "approach": approach,
            "supplier_id": self.rng.choice(self.suppliers),
            "advanced": advanced,
            "lines": self._lines(),
        }
        if freight:
            body["freight"] = str(self.rng.choice([15, 25, 40]))
        doc = self.cin7.post("purchases", body)
        return str(doc["ID"])

    def _half(self, pid: str) -> None:
        order = self.cin7.get(f"purchases/{pid}")["Order"]["Lines"]
        lines = [{"sku": x["SKU"], "quantity": max(1, int(x["Quantity"]) // 2)} for x in order]
        self.cin7.post(f"purchases/{pid}/receive", {"lines": lines})

    def purchase(self, n: int) -> None:
        kind = n % 20
        post = self.cin7.post
        if kind in (0, 1, 2, 3, 4, 5, 6):  # Simple, stock first
            pid = self._new("STOCK", freight=kind == 6)
            post(f"purchases/{pid}/receive")
            post(f"purchases/{pid}/invoice")
        elif kind in (7, 8, 9, 10):  # Simple, invoice first
            pid = self._new("INVOICE")
            post(f"purchases/{pid}/invoice")
            post(f"purchases/{pid}/receive")
        elif kind in (11, 12, 13):  # Advanced, two deliveries, then the invoice
            pid = self._new("STOCK", advanced=True)
            self._half(pid)
            post(f"purchases/{pid}/receive")
            post(f"purchases/{pid}/invoice")
        elif kind in (14, 15):  # Advanced, invoice first, half the goods in so far
            pid = self._new("INVOICE", advanced=True)
            post(f"purchases/{pid}/invoice")
            self._half(pid)
            self.partial.append(pid)
        elif kind in (16, 17):  # ordered, nothing received yet
            self._new("STOCK", advanced=kind == 17)
        else:  # received, invoiced, one unit returned with a credit note
            pid = self._new("STOCK")
            post(f"purchases/{pid}/receive")
            post(f"purchases/{pid}/invoice")
            line = self.cin7.get(f"purchases/{pid}")["Order"]["Lines"][0]
            post(f"purchases/{pid}/credit", {"lines": [{"sku": line["SKU"], "quantity": 1}]})

    def deliver_the_rest(self) -> None:
        for pid in self.partial:
            self.cin7.post(f"purchases/{pid}/receive")
        log(f"the rest of {len(self.partial)} invoice-first purchases arrived in Cin7")
        self.partial = []


def crash(
    home: Home, kills: int, startup: float, estimate: float, rng: random.Random, midway: Any
) -> list[Pass]:
    """Launch `sync` again and again, SIGKILLing each launch before its pass can end, until
    `kills` kills have happened (a launch that finishes first does not count as one). Delays
    start after `startup` (the command's own start-up on this machine), so kills land in the
    pass rather than in the interpreter's imports."""
    passes: list[Pass] = []
    killed = 0
    while killed < kills:
        delay = rng.uniform(startup, max(startup + 0.5, estimate))
        run = sync(home, kill_after=delay)
        passes.append(run)
        if run.exit_code is None:
            killed += 1
            log(f"kill {killed}/{kills} after {delay:.1f} s")
            if killed == kills // 2:
                midway()
        else:
            estimate = run.elapsed_s
            log(f"a pass ended first (exit {run.exit_code}, {run.elapsed_s:.1f} s)")
    return passes


def finish(home: Home) -> list[Pass]:
    """Passes until one ends with nothing left to retry (exit 0, or 1 for records that failed
    or are blocked; 4 means some wait on a remote)."""
    passes = []
    for _ in range(MAX_FINISHING_PASSES):
        run = sync(home)
        passes.append(run)
        log(f"pass to completion: exit {run.exit_code} in {run.elapsed_s:.1f} s")
        if run.exit_code in (0, 1):
            break
    return passes


def fault_counts(cin7: dict[str, Any], qad: dict[str, Any]) -> dict[str, int]:
    counts = {f"cin7_{kind}": int(n) for kind, n in cin7.get("faults", {}).items()}
    counts |= {f"qad_{kind}": int(n) for kind, n in qad.get("faults", {}).items()}
    counts["qad_unauthorized"] = int(qad.get("unauthorized", 0))  # expired tokens refused
    counts["qad_token_requests"] = int(qad.get("token_requests", 0))
    return dict(sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (fresh database)")
    parser.add_argument("--qad-profile", default="rest", help="rest, qxtend, mixed or a TOML file")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    try:
        profile = load_profile(args.qad_profile)
    except ProfileError as exc:
        parser.error(str(exc))
    rng = random.Random(args.seed)
    started = time.monotonic()
    home = Home(args.database_url)
    try:
        with sandboxes(suppliers=20, seed=args.seed, qad_args=("--token-ttl", "20")) as boxes:
            cin7_box, qad_box = boxes
            began = time.monotonic()
            connect(home, cin7_box, qad_box, **TIMEOUTS, qad_profile=profile.stored())
            startup = max(MIN_KILL_S, (time.monotonic() - began) / 4)
            cin7 = Cin7Control(cin7_box)
            buyer = Buyer(cin7, rng)
            for n in range(args.purchases):
                buyer.purchase(n)
            log(f"{args.purchases} purchases in Cin7; faults on")
            cin7.post("faults", CIN7_FAULTS)
            cin7.http.post(f"{qad_box.control}/faults", json=QAD_FAULTS).raise_for_status()
            estimate = 2 * startup + 0.08 * args.purchases
            passes = crash(home, args.kills, startup, estimate, rng, buyer.deliver_the_rest)
            if buyer.partial:
                buyer.deliver_the_rest()
            passes += finish(home)
            books = read_books(cin7_box.control, qad_box.control)
            faults = fault_counts(
                cin7.get("stats"), cin7.http.get(f"{qad_box.control}/stats").json()
            )
            audit_ok = cli(home, "audit", "verify", "bench", check=False).returncode == 0
            unsettled = [
                row
                for status in ("failed", "blocked", "attention", "held", "pending")
                for row in records(home, status)
            ]
            for row in unsettled[:40]:
                log(f"  {row['reference']}: {row['status']}: {str(row['reason'])[:200]}")
            cin7.close()
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"a command outlasted its timeout: {exc}") from None
    finally:
        home.close()
    verdict = audit(books, item_codes=DIVERGENCES.item_codes)
    for finding in verdict.findings[:40]:
        log(f"  {finding}")
    result = {
        "purchases": args.purchases,
        "kills": sum(1 for p in passes if p.exit_code is None),
        "faults": faults,
        "duplicates": verdict.duplicates,
        "lost": verdict.lost,
        "early_invoices": verdict.early_invoices,
        "receipt_mismatches": verdict.receipt_mismatches,
        "audit_ok": audit_ok,
        "elapsed_s": round(time.monotonic() - started, 1),
        "passes": len(passes),
        "checked": verdict.purchases,
        "backend": home.backend,
        "qad_profile": profile.name,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
