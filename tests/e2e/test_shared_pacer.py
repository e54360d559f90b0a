"""Worker processes on one Cin7 application key share one budget through PostgreSQL.

Several processes hammer the Cin7 sandbox over HTTP on one key, each with its own
`SharedPacer`, against the sandbox's own rolling limit (a 3 s window here, so the test takes
seconds rather than minutes; the pacer runs the same code at 60 s). The sandbox's statistics
judge: no rate-limit answer, never more than the limit in any rolling window, and the budget
actually used. A 429 met by one process pauses the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_helpers import migrated

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.serve import ServerThread

pytestmark = pytest.mark.postgres

HAMMER = Path(__file__).parents[1] / "support" / "pacer_hammer.py"
LIMIT = 12
WINDOW = 3.0


@pytest.fixture
async def pg_url(postgres_database: str) -> str:
    return await migrated(postgres_database)


@pytest.fixture
def cin7(request: pytest.FixtureRequest) -> Iterator[tuple[Cin7Sandbox, str]]:
    limit, window = getattr(request, "param", (LIMIT, WINDOW))
    sandbox = create_cin7_sandbox(
        seed=13, suppliers=2, purchases=0, rate_limit=limit, rate_window=window
    )
    with ServerThread(sandbox.app) as server:
        yield sandbox, f"{server.url}/ExternalApi/v2/"


def hammer(
    sandbox: Cin7Sandbox, base: str, database: str, *, limit: int, **options: float
) -> subprocess.Popen[str]:
    args = [f"--{name}={value}" for name, value in options.items()]
    return subprocess.Popen(
        [
            sys.executable,
            str(HAMMER),
            f"--base={base}",
            f"--account={sandbox.account_id}",
            f"--database={database}",
            f"--limit={limit}",
            f"--window={WINDOW}",
            *args,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PACER_HAMMER_KEY": sandbox.application_key},
    )


def result(process: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    answer: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return answer


def key_stats(sandbox: Cin7Sandbox) -> dict[str, int]:
    stats: dict[str, int] = sandbox.state.stats()["by_key"][sandbox.application_key.lower()]
    return stats


def test_three_workers_on_one_key_stay_inside_its_rolling_limit(
    cin7: tuple[Cin7Sandbox, str], pg_url: str
) -> None:
    sandbox, base = cin7
    seconds = 8.0
    workers = [
        hammer(sandbox, base, pg_url, limit=LIMIT, seconds=seconds, tasks=3) for _ in range(3)
    ]
    results = [result(worker) for worker in workers]

    stats = key_stats(sandbox)
    assert stats["rate_limited"] == 0
    assert sandbox.state.stats()["rate_limited"] == 0
    assert stats["peak_in_window"] <= LIMIT
    assert stats["calls"] == sum(r["calls"] for r in results)
    # The budget is used, not idled away: at least two full windows' worth in 8 s.
    assert stats["calls"] >= 2 * LIMIT
    assert all(r["rate_limited"] == 0 for r in results)
    assert sum(r["waited"] for r in results) > 0


# A 10 s window: the pause outlasts the second worker's start-up on a busy machine.
@pytest.mark.parametrize("cin7", [(3, 10.0)], indirect=True)
def test_a_rate_limit_met_by_one_worker_pauses_the_others(
    cin7: tuple[Cin7Sandbox, str], pg_url: str
) -> None:
    sandbox, base = cin7
    # The pacers believe in 100 calls per window; Cin7 (the sandbox) allows 3. The first
    # worker's fourth call is refused with Retry-After, which pauses the key for everyone.
    first = hammer(sandbox, base, pg_url, limit=100, calls=4)
    deadline = time.monotonic() + 60
    while sandbox.state.stats()["rate_limited"] == 0:
        assert time.monotonic() < deadline, "the first worker was never rate limited"
        assert first.poll() is None
        time.sleep(0.05)
    # A second worker starting inside the pause waits it out instead of knocking.
    second = hammer(sandbox, base, pg_url, limit=100, calls=2)
    results = [result(first), result(second)]

    assert results[0]["rate_limited"] == 1
    assert results[1]["rate_limited"] == 0
    assert results[1]["waited"] > 0
    assert key_stats(sandbox)["rate_limited"] == 1
    assert key_stats(sandbox)["calls"] == 4 + 1 + 2
