"""`ml-connector run` as a process: timestamps, a JSON-lines log, and a clean stop on a signal.

The connection points at closed loopback ports, so every pass fails (QAD unreachable): the
case in which Ctrl-C used to print a CancelledError traceback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from ml_connector.cli import main; main()"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    env.update(
        ML_CONNECTOR_HOME=str(home),
        ML_CONNECTOR_CIN7_APPLICATION_KEY="planted-key-7d1e",
        ML_CONNECTOR_QAD_PASSWORD="planted-password-93ab",
    )
    return env


def _add_unreachable_connection(home: Path) -> None:
    subprocess.run(
        [
            *CLI,
            "connection",
            "add",
            "acme",
            "--cin7-account-id",
            "acct",
            "--cin7-base-url",
            "http://127.0.0.1:9/ExternalApi/v2/",
            "--qad-url",
            "http://127.0.0.1:9/clouderp",
            "--qad-client-id",
            "client",
            "--qad-username",
            "integration",
            "--qad-domain",
            "10USA",
            "--qad-entity",
            "10USACO",
            "--allow-local",
            "--schedule",
            "every 1m",
        ],
        env=_env(home),
        check=True,
        capture_output=True,
    )


def _wait_for(predicate: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_run_stops_cleanly_on_a_signal_after_a_failed_pass(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    home = tmp_path / "home"
    _add_unreachable_connection(home)
    log = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [*CLI, "run", "--log-file", str(log)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def turned() -> bool:
            return log.exists() and '"connection": "acme"' in log.read_text()

        _wait_for(turned)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "CancelledError" not in err
    assert out == ""
    lines = err.strip().splitlines()
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ "
    assert all(re.match(stamp, line) for line in lines), lines
    assert re.match(stamp + r"acme: failed: .*cannot reach QAD", lines[1]), lines
    assert lines[-1].endswith(
        f"stopped by {sig.name}; a pass in flight was interrupted and resumes safely on "
        "the next start"
    )

    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    turn = next(r for r in records if r.get("connection") == "acme")
    assert turn["action"] == "failed"
    assert records[-1]["signal"] == sig.name
    assert records[-1]["exit_code"] == code
    written = err + log.read_text()
    assert "planted-key-7d1e" not in written
    assert "planted-password-93ab" not in written
