"""The journal gathers a record's writes, and never delays what must be durable: each intent
is committed (row and trail event) before its QAD call; an outcome waits at most until the
record's next commit, and a pass stopped in between leaves an intent the next pass resolves."""

from __future__ import annotations

from typing import Any

import pytest
from memory_world import MemoryWorld, memory_world

from ml_connector.errors import AuthRejected
from ml_connector.sync import engine as engine_module
from ml_connector.sync.actions import Action
from ml_connector.sync.execute import execute as real_execute


@pytest.fixture
async def world() -> MemoryWorld:
    return await memory_world()


async def test_every_intent_is_committed_before_its_qad_call(
    world: MemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = world.purchase("STOCK", WID_100=10, BRK_20=4)
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "JNL-INV-1")
    checked: list[str] = []

    async def watched(action: Action, ops: Any) -> Any:
        # Outside any transaction: what a crash at this instant would leave behind.
        held = await world.store.get_posting(world.cid, action.natural_key)
        trail = await world.store.events(world.cid)
        assert any(
            e.event == "intent" and e.data.get("natural_key") == action.natural_key for e in trail
        ), f"no committed intent event before {action.describe()}"
        assert held is not None, f"no committed posting row before {action.describe()}"
        assert held.state in ("intent", "posted")  # a create's intent, or an update's row
        checked.append(action.natural_key)
        return await real_execute(action, ops)

    monkeypatch.setattr(engine_module, "execute", watched)
    report = await world.sync()

    assert report.status == "succeeded", report.error
    assert any(key.startswith("po:") for key in checked)
    assert any(key.startswith("receipt:") for key in checked)
    assert any(key.startswith("invoice:") for key in checked)
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    assert await world.store.open_intents(world.cid) == []
    assert await world.store.verify(world.cid) == []


async def test_a_pass_stopped_after_a_qad_write_loses_nothing_and_posts_nothing_twice(
    world: MemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = world.purchase("STOCK", WID_100=10)
    world.cin7.state.receive(doc["ID"])

    async def stop_after_the_po(action: Action, ops: Any) -> Any:
        done = await real_execute(action, ops)
        if action.natural_key.startswith("po:"):
            world.cin7.fail_with(AuthRejected("key revoked", system="cin7", status=403))
            raise AuthRejected("QAD refused the session", system="qad", status=401)
        return done

    monkeypatch.setattr(engine_module, "execute", stop_after_the_po)
    stopped = await world.sync()
    assert stopped.status == "failed"
    assert await world.qad.get_purchase_order(doc["OrderNumber"]) is not None

    monkeypatch.setattr(engine_module, "execute", real_execute)
    world.cin7.recover()
    writes = len(world.qad.writes)
    again = await world.sync()

    assert again.status == "succeeded", again.error
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    assert "create_purchase_order" in world.qad.writes[:writes]
    assert "create_purchase_order" not in world.qad.writes[writes:], "no second PO"
    assert "post_receipt" in world.qad.writes[writes:]
    assert await world.store.open_intents(world.cid) == []
    assert await world.store.verify(world.cid) == []
