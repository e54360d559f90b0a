"""`wire.Slots`, the bound on requests in flight: taken at once while free, else handed over
first come, first served; a wait that times out or is cancelled, even as a slot reaches it,
loses no slot and takes none."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ml_connector.wire import Slots

pytestmark = pytest.mark.unit


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def busy() -> Slots:
    """One slot, taken by a request in flight."""
    slots = Slots(1)
    assert slots.take_free()
    assert not slots.take_free()
    return slots


async def test_slots_are_handed_over_in_order_of_arrival() -> None:
    slots = busy()
    served: list[str] = []

    async def wait(name: str) -> None:
        await slots.wait(None)
        served.append(name)

    tasks = {name: asyncio.create_task(wait(name)) for name in "abc"}
    await settle()
    tasks["b"].cancel()
    for _ in range(3):
        slots.release()
        await settle()
    assert served == ["a", "c"]
    assert tasks["b"].cancelled()
    assert (slots.free, len(slots.waiting)) == (1, 0)


async def test_a_wait_past_the_pool_timeout_is_a_pool_timeout_and_holds_no_slot() -> None:
    slots = busy()
    with pytest.raises(httpx.PoolTimeout):
        await slots.wait(0.01)
    slots.release()
    assert (slots.free, len(slots.waiting)) == (1, 0)


@pytest.mark.parametrize("handed_first", [True, False])
async def test_a_wait_cancelled_as_its_slot_arrives_loses_no_slot(handed_first: bool) -> None:
    slots = busy()
    task = asyncio.create_task(slots.wait(None))
    await settle()
    # Both in one turn of the loop, before the waiting task runs again.
    if handed_first:
        slots.release()
        task.cancel()
    else:
        task.cancel()
        slots.release()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (slots.free, len(slots.waiting)) == (1, 0)
