"""Kill -9 the connector mid-sync, again and again, and prove nothing was lost or posted twice.

Both sandboxes run in their own processes (so they outlive every kill); `ml-connector sync`
runs in a child process killed with SIGKILL at seeded random points of its own progress (its
first Cin7 call, or one to six QAD writes in, and a fraction of a second more), then restarted;
a last run goes to completion. Kill points follow the child's calls rather than the clock, so each
kill lands in a running sync however loaded the machine is (a clock kill can land while Python
is still importing) and the test asserts that it did. QAD must then hold exactly one PO per Cin7
OrderNumber, receipt quantities equal to Cin7's received quantities, each invoice once, and
every authorised Cin7 purchase must be accounted for (posted, held, or blocked/failed with a
reason). The second test does the same with faults on both sides: 5xx, HTML pages, timeouts,
429s, expiring tokens, silent and lost receipts. Both run on the `rest` profile and on `mixed`
(receipts and invoices as QXtend QDocs, with QXtend's receipt quirks as faults), 60 purchases
each: the kills land among the first purchases, the rest prove the restarted passes finish the job.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from crash_world import Sandboxes, assert_exactly_once, connect

from ml_connector.settings import load_settings
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

pytestmark = pytest.mark.slow

# `ml-connector sync acme`, once a line arrives on stdin: each child is started while the one
# before it runs, so its imports (seconds on a loaded machine) overlap that child's work.
SYNC = [
    sys.executable,
    "-c",
    "import sys; from ml_connector.cli import main; sys.stdin.readline(); main()",
    "sync",
    "acme",
]


class KillPoint(NamedTuple):
    """Where a sync child is killed: after its first Cin7 call and this many QAD writes."""

    qad_writes: int
    delay: float


# (profile, purchases)
CASES = [("rest", 60), ("mixed", 60)]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ML_CONNECTOR_HOME", str(tmp_path))
    monkeypatch.setenv("ML_CONNECTOR_MASTER_KEY", Vault.generate_key())
    monkeypatch.delenv("ML_CONNECTOR_DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture(params=CASES, ids=lambda case: case[0])
def sandboxes(request: pytest.FixtureRequest) -> Iterator[Sandboxes]:
    profile, purchases = request.param
    boxes = Sandboxes(purchases=purchases, token_ttl=3, profile=profile)
    try:
        yield boxes
    finally:
        boxes.stop()


class SyncChildren:
    """Sync children in turn, the next one already imported and waiting for its go."""

    def __init__(self) -> None:
        self._ready: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            SYNC,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )

    def start(self, *, another: bool) -> subprocess.Popen[bytes]:
        """Let the waiting child (or a new one) run; start the next if `another` will follow."""
        proc = self._ready or self._spawn()
        self._ready = self._spawn() if another else None
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        return proc

    def close(self) -> None:
        if self._ready is not None:
            self._ready.kill()
            self._ready.wait()
            self._ready = None


def _sync_child(
    boxes: Sandboxes, children: SyncChildren, kill_at: KillPoint | None, *, another: bool
) -> int | None:
    """One sync child, run to its end, or SIGKILLed at `kill_at`: once the child has made a
    Cin7 call and that many QAD writes, and `delay` seconds more (so the kill lands anywhere
    within a call, not only between two). Returns the exit code, or None when it was killed;
    a child that finished before its kill point returns its code."""
    cin7_before, qad_before = boxes.progress()
    proc = children.start(another=another)
    try:
        if kill_at is None:
            return proc.wait(timeout=600)
        deadline = time.monotonic() + 300
        while proc.poll() is None:
            cin7_calls, qad_writes = boxes.progress()
            if cin7_calls > cin7_before and qad_writes - qad_before >= kill_at.qad_writes:
                time.sleep(kill_at.delay)
                break
            assert time.monotonic() < deadline, f"the sync never reached {kill_at}"
            time.sleep(0.1)
        if proc.poll() is not None:
            return proc.returncode
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _kill_points(kills: int, rng: random.Random) -> list[KillPoint]:
    """The first kill lands while the sync reads Cin7 (nothing posted yet by that pass), the
    others after one to six QAD writes of the pass: mid-post, between a write and its outcome."""
    first = KillPoint(qad_writes=0, delay=rng.uniform(0, 0.3))
    rest = [KillPoint(rng.randint(1, 6), rng.uniform(0, 0.3)) for _ in range(kills - 1)]
    return [first, *rest]


def _crash_and_finish(boxes: Sandboxes, kills: int, rng: random.Random) -> None:
    children = SyncChildren()
    try:
        for point in _kill_points(kills, rng):
            # Every kill must land in a running sync, or the test would prove nothing about it.
            killed = _sync_child(boxes, children, point, another=True)
            assert killed is None, f"the sync ended before {point}"
        for _ in range(6):  # then to completion: transient leftovers retry on a next pass
            assert _sync_child(boxes, children, None, another=False) is not None
            if not asyncio.run(_pending()):
                return
        raise AssertionError("records still pending after six complete passes")
    finally:
        children.close()


async def _pending() -> int:
    settings = load_settings()
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        cid = await store.connection_id("acme")
        return len(await store.list_records(cid, status="pending", kind="purchase"))
    finally:
        await store.close()


def test_sigkill_mid_sync_loses_nothing_and_posts_nothing_twice(
    home: Path, sandboxes: Sandboxes
) -> None:
    asyncio.run(connect(sandboxes, {}))
    _crash_and_finish(sandboxes, kills=6, rng=random.Random(20261127))
    assert_exactly_once(sandboxes)


def test_sigkill_with_faults_on_both_sides(home: Path, sandboxes: Sandboxes) -> None:
    asyncio.run(connect(sandboxes, {"cin7_timeout": 2, "qad_timeout": 5}))
    sandboxes.faults(
        cin7={
            "error_rate": 0.04,
            "html_rate": 0.03,
            "timeout_rate": 0.01,
            "timeout_seconds": 4,
            "rate_limit_per_minute": 200,
        },
        qad={
            "error_rate": 0.03,
            "html_rate": 0.02,
            "lost_response_rate": 0.03,
            "expire_tokens_now": True,
            **(
                {"qdoc_silent_receipt_rate": 0.15, "qdoc_posted_error_rate": 0.05}
                if sandboxes.profile == "mixed"
                else {"silent_receipt_rate": 0.15}
            ),
        },
    )
    _crash_and_finish(sandboxes, kills=5, rng=random.Random(7))
    assert_exactly_once(sandboxes)
