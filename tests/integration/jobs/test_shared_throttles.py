"""The Cin7 pacer and QAD's in-flight slots shared through PostgreSQL, from two engines (as two
worker processes would hold them); the multi-process proof is in tests/e2e/test_shared_pacer.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.cin7.pacer import key_fingerprint
from ml_connector.jobs.pacer import SharedPacer
from ml_connector.jobs.slots import SharedInFlight
from ml_connector.qad.inflight import tenant_fingerprint
from ml_connector.store import create_engine
from ml_connector.store.tables import pacer_calls, pacer_keys, qad_slots

pytestmark = pytest.mark.postgres

KEY = "0f6b1a52-9c1e-4d7e-b8a4-2f4a3c1d5e6f"


@pytest.fixture
async def engines(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_engine(pg_url), create_engine(pg_url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


def max_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_two_workers_share_one_rolling_budget(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    pacers = [SharedPacer(engine, KEY, limit=5, window=1.0, per_second=1000) for engine in engines]
    admitted: list[float] = []

    async def caller(pacer: SharedPacer) -> None:
        for _ in range(5):
            slot = await pacer.acquire()
            admitted.append(slot.at)
            await pacer.release(slot)

    started = time.monotonic()
    await asyncio.gather(*(caller(pacers[i % 2]) for i in range(4)))
    assert len(admitted) == 20
    # Each pacer alone would let 5 through per window; together they still only admit 5.
    assert max_in_any_window(admitted, 1.0) <= 5
    assert time.monotonic() - started >= 3.0
    assert sum(p.waited for p in pacers) > 0


async def test_a_pause_seen_by_one_worker_holds_the_other(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    seen_429, other = (SharedPacer(engine, KEY, limit=60) for engine in engines)
    started = time.monotonic()
    await seen_429.pause_for(1.5)
    await other.acquire()
    assert time.monotonic() - started >= 1.45
    assert other.waited > 0


async def test_another_key_has_its_own_budget(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    spent = SharedPacer(engines[0], KEY, limit=2, window=30.0, per_second=1000)
    fresh = SharedPacer(engines[1], "another-key", limit=2, window=30.0, per_second=1000)
    for _ in range(2):
        await spent.acquire()
    assert await spent.in_window() == 2
    # The spent key would hold a caller for 30 s; the other key admits at once.
    await asyncio.wait_for(fresh.acquire(), timeout=10)
    assert fresh.waited == 0
    assert await fresh.in_window() == 1


async def test_release_counts_a_call_from_its_answer(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    pacer = SharedPacer(engines[0], KEY, limit=1, window=1.0)
    slot = await pacer.acquire()
    await asyncio.sleep(0.5)  # a slow answer
    await pacer.release(slot)
    started = time.monotonic()
    await pacer.acquire()
    # Counted from the answer, the window frees ~1 s after it, not after the admission.
    assert time.monotonic() - started >= 0.9


async def test_the_key_is_stored_by_its_fingerprint_only(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    pacer = SharedPacer(engines[0], KEY, limit=60)
    await pacer.release(await pacer.acquire())
    await pacer.pause_for(0)
    async with engines[0].connect() as conn:
        keys = (await conn.execute(select(pacer_keys.c.key_hash))).scalars().all()
        dump = str((await conn.execute(select(pacer_keys))).all())
        dump += str((await conn.execute(select(pacer_calls))).all())
    assert keys == [key_fingerprint(KEY)]
    assert KEY not in dump
    assert KEY not in repr(pacer)


async def test_calls_that_left_the_window_are_pruned(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    pacer = SharedPacer(engines[0], KEY, limit=100, window=0.3, per_second=1000)
    for _ in range(5):
        await pacer.acquire()
    await asyncio.sleep(0.4)
    await pacer.acquire()
    async with engines[0].connect() as conn:
        left = await conn.scalar(text("SELECT count(*) FROM pacer_calls"))
    assert left == 1


async def test_qad_slots_bound_requests_across_workers(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    bounds = [SharedInFlight(engine, url, size=3) for engine in engines]
    out = peak = 0

    async def request(bound: SharedInFlight) -> None:
        nonlocal out, peak
        async with bound.slot():
            out += 1
            peak = max(peak, out)
            await asyncio.sleep(0.05)
            out -= 1

    # Each worker alone would allow 3 out at once; together they still allow 3.
    await asyncio.gather(*(request(bounds[i % 2]) for i in range(24)))
    assert peak == 3
    for bound in bounds:
        await bound.aclose()
    async with engines[0].connect() as conn:
        held = await conn.scalar(
            select(text("count(*)")).select_from(qad_slots).where(qad_slots.c.holder.isnot(None))
        )
    assert held == 0
    assert await queued(engines[0]) == 0  # every waiter was served and left the queue


async def test_a_killed_workers_slot_frees_itself_when_its_lease_ends(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    dead = SharedInFlight(engines[0], url, size=1, lease=0.5, hold=0.1)
    survivor = SharedInFlight(engines[1], url, size=1, lease=0.5, hold=0.1)
    taken = dead.slot()
    await taken.__aenter__()  # the worker dies holding it: never exits the block
    started = time.monotonic()
    async with survivor.slot():
        waited = time.monotonic() - started
    assert 0.3 <= waited < 5


async def held_slots(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM qad_slots WHERE holder IS NOT NULL"))
    return int(count or 0)


async def test_a_slot_serves_the_next_requests_then_goes_back(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    bound = SharedInFlight(engines[0], url, size=8, hold=5.0, linger=0.2)
    for _ in range(40):
        async with bound.slot():
            pass
    # Forty requests one after another, one slot taken from the database.
    assert bound.taken == 1
    assert await held_slots(engines[0]) == 1
    await asyncio.sleep(0.5)  # unused for longer than `linger`: back in the table
    assert await held_slots(engines[0]) == 0
    async with bound.slot():
        assert await held_slots(engines[0]) == 1
    await bound.aclose()
    assert await held_slots(engines[0]) == 0
    assert bound.taken == 2


async def test_a_slot_held_past_its_turn_goes_back_for_other_workers(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    busy = SharedInFlight(engines[0], url, size=1, hold=0.2, linger=20.0)
    other = SharedInFlight(engines[1], url, size=1)
    await _one_request(busy)  # busy holds the only slot, and would keep it idle for 20 s
    waiting = asyncio.create_task(_one_request(other))
    started = time.monotonic()
    while not waiting.done() and time.monotonic() - started < 15:
        async with busy.slot():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await waiting
    # The busy worker kept asking, yet after its turn (`hold`) the other got the slot.
    assert elapsed < 10
    await busy.aclose()
    await other.aclose()


async def _one_request(bound: SharedInFlight) -> None:
    async with bound.slot():
        pass


async def queued(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM qad_slot_waiters"))
    return int(count or 0)


class Polls:
    """A waiter's sleep between polls, counted; a held one parks the waiter until released."""

    def __init__(self, *, held: bool = False) -> None:
        self.count = 0
        self.seconds: list[float] = []
        self.asked = asyncio.Event()  # the waiter found no slot it may take
        self.gate = asyncio.Event()
        if not held:
            self.gate.set()

    async def __call__(self, seconds: float) -> None:
        self.count += 1
        self.seconds.append(seconds)
        self.asked.set()
        await self.gate.wait()
        await asyncio.sleep(seconds)

    async def first_miss(self) -> None:
        await asyncio.wait_for(self.asked.wait(), timeout=10)


async def test_a_freed_slot_goes_to_the_waiter_before_its_holder_takes_it_back(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    holder = SharedInFlight(engines[0], url, size=1, hold=0.0)  # gives the slot back each time
    waiter_polls = Polls(held=True)
    waiter = SharedInFlight(engines[1], url, size=1, hold=0.0, sleep=waiter_polls)
    order: list[str] = []

    async def request(bound: SharedInFlight, name: str) -> None:
        async with bound.slot():
            order.append(name)

    async with holder.slot():
        waiting = asyncio.create_task(request(waiter, "waiter"))
        await waiter_polls.first_miss()
    # The slot is back in the table while the waiter sleeps; the holder asks again at once, and
    # keeps asking for half a second.
    taking_back = asyncio.create_task(request(holder, "holder"))
    await asyncio.wait({taking_back}, timeout=0.5)
    assert order == []
    waiter_polls.gate.set()
    await asyncio.gather(waiting, taking_back)
    assert order == ["waiter", "holder"]
    assert await held_slots(engines[0]) == 0
    assert await queued(engines[0]) == 0


async def test_waiters_are_served_in_the_order_they_came(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    second_polls, third_polls = Polls(held=True), Polls()
    first = SharedInFlight(engines[0], url, size=1, hold=0.0)
    second = SharedInFlight(engines[1], url, size=1, hold=0.0, sleep=second_polls)
    third = SharedInFlight(engines[0], url, size=1, hold=0.0, sleep=third_polls)
    order: list[str] = []

    async def request(bound: SharedInFlight, name: str) -> None:
        async with bound.slot():
            order.append(name)

    async with first.slot():
        earlier = asyncio.create_task(request(second, "second"))
        await second_polls.first_miss()
        later = asyncio.create_task(request(third, "third"))
        await third_polls.first_miss()
        assert await queued(engines[0]) == 2
    polls = third_polls.count
    taking_back = asyncio.create_task(request(first, "first"))
    # The slot is free for half a second while the earlier waiter sleeps: the later one keeps
    # asking, and the first worker asks again, yet neither takes it.
    await asyncio.wait({later, taking_back}, timeout=0.5)
    assert order == []
    assert third_polls.count > polls
    second_polls.gate.set()
    await asyncio.gather(earlier, later, taking_back)
    assert order == ["second", "third", "first"]


async def test_the_waiter_next_in_line_asks_more_often_than_those_behind(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    holder = SharedInFlight(engines[0], url, size=1)
    next_polls, behind_polls = Polls(), Polls()
    next_in_line = SharedInFlight(engines[1], url, size=1, sleep=next_polls)
    behind = SharedInFlight(engines[0], url, size=1, sleep=behind_polls)
    async with holder.slot():
        first = asyncio.create_task(_one_request(next_in_line))
        await next_polls.first_miss()
        second = asyncio.create_task(_one_request(behind))
        await asyncio.sleep(1.0)  # both back off while the slot stays taken
    await holder.aclose()
    await asyncio.gather(first, second)
    # The next freed slot is the first waiter's: it asks at least every 50 ms, so the slot
    # does not sit free for long; the one behind it backs off to a quarter of a second.
    assert max(next_polls.seconds) == 0.05
    assert max(behind_polls.seconds) == 0.25
    for bound in (next_in_line, behind):
        await bound.aclose()


async def test_a_cancelled_waiter_leaves_the_queue(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    url = "https://acme.qad.example/clouderp"
    holder = SharedInFlight(engines[0], url, size=1, hold=0.0)
    quitter_polls = Polls(held=True)
    quitter = SharedInFlight(engines[1], url, size=1, sleep=quitter_polls)
    async with holder.slot():
        waiting = asyncio.create_task(_one_request(quitter))
        await quitter_polls.first_miss()
        assert await queued(engines[0]) == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await queued(engines[0]) == 0
    newcomer = SharedInFlight(engines[1], url, size=1)
    await _one_request(newcomer)
    assert newcomer.waited == 0  # nobody ahead: the freed slot is taken at once
    await newcomer.aclose()


async def test_a_killed_waiters_place_lapses(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    url = "https://acme.qad.example/clouderp"
    async with engines[0].begin() as conn:  # a worker queued, then died without leaving
        await conn.execute(
            text(
                "INSERT INTO qad_slot_waiters (tenant_hash, holder, expires_at) "
                "VALUES (:tenant, 'killed', extract(epoch FROM clock_timestamp()) + 0.5)"
            ),
            {"tenant": tenant_fingerprint(url)},
        )
    newcomer = SharedInFlight(engines[1], url, size=1)
    started = time.monotonic()
    await _one_request(newcomer)
    waited = time.monotonic() - started
    # The slot was free, yet the newcomer stood behind the waiter until its place lapsed.
    assert 0.3 <= waited < 5
    assert await queued(engines[0]) == 0  # served: the lapsed place is pruned too
    await newcomer.aclose()


async def test_a_slot_the_database_cannot_take_back_does_not_fail_the_request(
    engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    bound = SharedInFlight(engines[0], "https://acme.qad.example/clouderp", size=2, hold=0.0)
    async with bound.slot(), engines[1].begin() as conn:  # the table goes away mid-request
        await conn.execute(text("DROP TABLE qad_slots"))
    await bound.aclose()
    assert "lease frees them" in caplog.text
