"""The pacer keeps every caller of a key inside a rolling window, on virtual time."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ml_connector.cin7 import pacer as pacer_module
from ml_connector.cin7.pacer import LocalPacer, key_fingerprint, pacer_for
from ml_connector.testing import FakeClock


def make(limit: int = 60, window: float = 60.0, **kwargs: float) -> tuple[LocalPacer, FakeClock]:
    clock = FakeClock(start=0.0)
    return LocalPacer(limit, window, clock=clock, sleep=clock.sleep, **kwargs), clock


def max_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_never_more_than_limit_calls_in_any_window() -> None:
    pacer, clock = make()
    admitted = []
    for _ in range(300):
        await pacer.acquire()
        admitted.append(clock.now)
    assert max_in_any_window(admitted, 60.0 + pacer.margin - 1e-6) == 60


async def test_uses_at_least_95_percent_of_the_budget() -> None:
    pacer, clock = make()
    for _ in range(600):
        await pacer.acquire()
    # 600 calls at 60 per minute cannot take less than 540 s; they may take at most 5 % more.
    assert 540.0 <= clock.now <= 600 / 0.95


async def test_first_window_is_spread_by_the_per_second_cap() -> None:
    pacer, clock = make(per_second=5.0)
    admitted = []
    for _ in range(10):
        await pacer.acquire()
        admitted.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(admitted)]
    assert min(gaps) == pytest.approx(0.2)


async def test_the_61st_call_waits_for_the_first_to_leave_the_window() -> None:
    pacer, clock = make()
    for _ in range(60):
        await pacer.acquire()
    assert clock.now < 10
    assert pacer.delay() > 50
    await pacer.acquire()
    assert clock.now == pytest.approx(60.0 + pacer.margin)


async def test_release_counts_a_call_from_its_answer() -> None:
    pacer, clock = make(limit=2)
    first = await pacer.acquire()
    clock.now += 3.0  # a slow answer
    await pacer.release(first)
    await pacer.acquire()
    await pacer.acquire()
    assert clock.now == pytest.approx(3.0 + 60.0 + pacer.margin)


async def test_pause_until_holds_every_caller() -> None:
    pacer, clock = make()
    pacer.pause_until(42.0)
    await asyncio.gather(pacer.acquire(), pacer.acquire())
    assert clock.now >= 42.0
    before = clock.now
    await pacer.pause_for(7.0)
    await pacer.acquire()
    assert clock.now - before >= 7.0


async def test_concurrent_callers_share_one_budget() -> None:
    pacer, clock = make(limit=20, window=10.0)
    admitted: list[float] = []

    async def caller() -> None:
        for _ in range(10):
            await pacer.acquire()
            admitted.append(clock.now)

    await asyncio.gather(*(caller() for _ in range(8)))
    assert len(admitted) == 80
    assert max_in_any_window(admitted, 10.0 + pacer.margin - 1e-6) <= 20


def test_one_process_wide_pacer_per_key_named_by_a_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacer_module, "registry", {})
    key = "5d1c0e2f-aaaa-4bbb-8ccc-0123456789ab"
    first = pacer_for(key)
    assert pacer_for(key) is first
    assert pacer_for("another-key") is not first
    assert key not in repr(pacer_module.registry)
    assert key_fingerprint(key) in pacer_module.registry
    assert pacer_for(key, limit=120) is first
    assert first.limit == 120


def test_a_pacer_refuses_an_empty_budget() -> None:
    with pytest.raises(ValueError, match="limit"):
        LocalPacer(limit=0)
