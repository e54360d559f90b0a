"""SIGKILL a job worker mid-sync: another worker finds the job stalled, runs it again, and the
sandboxes' books show every purchase in QAD exactly once.

Both sandboxes run in their own processes, QAD answering each call after 10 ms so the pass is
still posting when the first `ml-connector worker` is killed (after QAD holds a few POs). The
job is then `doing` with a silent heartbeat; a second worker started with the same short
`--stalled-after` puts it back in the queue, runs it to the end and stops cleanly on SIGTERM.
The pass it runs resolves the killed pass's writes without outcome by looking in QAD first.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from crash_world import Sandboxes, assert_exactly_once, connect
from job_queue import jobs
from postgres_helpers import empty_public_schema

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import defer_sync
from ml_connector.vault import Vault

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLI = [sys.executable, "-c", "from ml_connector.cli import main; main()"]
STALLED_AFTER = "3"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_database: str) -> Path:
    monkeypatch.setenv("ML_CONNECTOR_HOME", str(tmp_path))
    monkeypatch.setenv("ML_CONNECTOR_MASTER_KEY", Vault.generate_key())
    monkeypatch.setenv("ML_CONNECTOR_DATABASE_URL", empty_public_schema(postgres_database))
    return tmp_path


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    boxes = Sandboxes(purchases=16, token_ttl=300)
    try:
        yield boxes
    finally:
        boxes.stop()


def _worker(log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*CLI, "-v", "worker", "--concurrency", "2", "--stalled-after", STALLED_AFTER],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env=os.environ.copy(),
        )


def _wait_for(what: str, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _pos_in_qad(boxes: Sandboxes) -> int:
    state = httpx.get(f"{boxes.qad.control}/state", timeout=10).json()
    return len(state["purchaseOrders"])


async def _defer() -> int | None:
    app = job_app(os.environ["ML_CONNECTOR_DATABASE_URL"])
    async with app.open_async():
        return (await defer_sync(app, "acme")).job_id


def test_a_killed_workers_job_is_retried_and_finishes_exactly_once(
    home: Path, sandboxes: Sandboxes
) -> None:
    url = os.environ["ML_CONNECTOR_DATABASE_URL"]
    subprocess.run([*CLI, "db", "upgrade"], check=True, capture_output=True, env=os.environ)
    asyncio.run(connect(sandboxes, {}))
    sandboxes.faults(cin7={}, qad={"latency_ms": 10})
    job_id = asyncio.run(_defer())
    log = home / "workers.log"

    first = _worker(log)
    try:
        _wait_for("the first POs in QAD", lambda: _pos_in_qad(sandboxes) >= 2)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    (job,) = jobs(url)
    assert (job.id, job.status) == (job_id, "doing"), "killed after the job finished"
    posted_at_kill = _pos_in_qad(sandboxes)

    # Started at once: the new worker looks for stalled jobs when it starts and every
    # STALLED_AFTER / 2 s, so it requeues the job once the dead worker's heartbeat is stale.
    second = _worker(log)
    try:
        _wait_for("the retried job", lambda: jobs(url)[0].status not in ("todo", "doing"))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 143

    (job,) = jobs(url)
    assert (job.status, job.attempts) == ("succeeded", 2)  # the killed run, the finished one
    lines = log.read_text(encoding="utf-8")
    assert f"job {job_id} of a dead worker queued again" in lines
    assert "sync acme: synced:" in lines
    assert "worker stopped by SIGTERM" in lines
    assert "Traceback" not in lines
    assert _pos_in_qad(sandboxes) > posted_at_kill
    assert_exactly_once(sandboxes)
