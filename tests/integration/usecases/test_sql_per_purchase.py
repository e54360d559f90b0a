"""A first sync sends at most 30 SQL statements per purchase (issue 13): counted, not timed.

The bound holds for the whole pass (polling, staging, planning, posting, the trail, the run),
divided by the purchases Cin7 listed; `bench/sync.py` reports the same figure at scale. On
PostgreSQL the Cin7 pacer and the QAD in-flight bound shared by workers keep their state in the
database too (two statements per QAD call, one per Cin7 call); they are counted apart and bounded
by their own tests, the store's own work is held to the same 30.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from usecase_world import open_setup

from ml_connector.store.db import count_statements
from ml_connector.usecases import sync_connection

PURCHASES = 40
BOUND = 30
SHARED_LIMITS = ("qad_slots", "qad_slot_waiters", "pacer_calls", "mlc_pacer_")


async def test_a_first_sync_costs_at_most_30_statements_per_purchase(database_url: str) -> None:
    async with open_setup(database_url, purchases=PURCHASES) as setup:
        limits = 0

        def count_limits(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
            nonlocal limits
            limits += any(name in statement for name in SHARED_LIMITS)

        sync_engine = setup.first.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", count_limits)
        with count_statements(setup.first.engine) as counted:
            result = await sync_connection(setup.first, "acme", actor="test", remotes=setup.remotes)
        event.remove(sync_engine, "before_cursor_execute", count_limits)
        counters = result.report.counters
        assert result.report.status == "succeeded", result.report.error
        assert counters.purchases_fetched + counters.not_fetched == PURCHASES
        assert counters.posted > PURCHASES // 2, "most purchases post: a representative pass"
        if setup.first.dialect == "sqlite":
            assert limits == 0  # in-process pacer and bound: no statements
        per_purchase = (counted.statements - limits) / PURCHASES
        assert per_purchase <= BOUND, (
            f"{per_purchase:.1f} SQL statements per purchase "
            f"(and {limits / PURCHASES:.1f} for the shared pacer and QAD bound)"
        )
