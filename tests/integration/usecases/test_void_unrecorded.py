"""A purchase voided in Cin7 after our PO reached the QAD sandbox but before the store heard of
it, on SQLite and PostgreSQL: the PO is looked up in QAD and closed exactly once, and the
record's trail says why, instead of the void being taken for a void of nothing posted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from usecase_world import Setup, open_setup

from ml_connector.usecases import Remotes, sync_connection


@pytest.fixture
async def bare(database_url: str) -> AsyncIterator[Setup]:
    """The use-case sandboxes with no purchase of their own: the one each test creates is the
    only one the pass posts, so the kill lands in it."""
    async with open_setup(database_url, purchases=0) as s:
        yield s


def _closes(request: httpx.Request) -> bool:
    """Whether `request` is a write that sets a PO header's status to C (closed)."""
    if request.method == "GET" or not request.url.path.endswith("purchaseOrderHeaders"):
        return False
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return False
    return '"orderStatus": "C"' in json.dumps(body)


class KillAndCount(httpx.AsyncBaseTransport):
    """The QAD sandbox behind a wire that counts PO closes and, armed with a `victim`, cancels
    it (the process dies) right after QAD commits the next PO line, before the answer is read."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.victim: asyncio.Task[Any] | None = None
        self.closes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if _closes(request) and response.status_code < 300:
            self.closes += 1
        committed = request.method != "GET" and request.url.path.endswith("purchaseOrderLinesGrid")
        if committed and self.victim is not None:
            victim, self.victim = self.victim, None
            victim.cancel()
            await asyncio.sleep(0)
        return response


def _po(s: Setup, number: str) -> dict[str, Any]:
    [po] = [
        po for po in s.qad.tenant().state()["purchaseOrders"] if po["purchaseOrderNumber"] == number
    ]
    return po


async def test_a_po_qad_committed_before_a_kill_is_closed_once_when_voided(bare: Setup) -> None:
    state = bare.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": "WID-100", "quantity": 4}, {"sku": "LUB-SPR-400", "quantity": 6}],
        supplier_id=state.suppliers[0].id,
    )
    order = doc["OrderNumber"]
    wire = KillAndCount(httpx.ASGITransport(app=bare.qad.app))
    remotes = Remotes(cin7_transport=httpx.ASGITransport(app=bare.cin7.app), qad_transport=wire)
    killed = asyncio.create_task(
        sync_connection(bare.first, "acme", remotes=remotes, concurrency=1)
    )
    wire.victim = killed
    with pytest.raises(asyncio.CancelledError):
        await killed
    half = _po(bare, order)
    assert (half["status"], len(half["lines"])) == ("O", 1)
    state.void(doc["ID"])

    result = await sync_connection(bare.first, "acme", remotes=remotes)

    assert result.report.status == "succeeded", result.report.error
    assert _po(bare, order)["status"] == "C"
    assert wire.closes == 1
    assert bare.qad_po_numbers().count(order) == 1
    config = await bare.config()
    assert config.id is not None
    [record] = await bare.first.find_records(config.id, order)
    assert (record.status, record.reason) == ("void", f"PO {order} is closed in QAD")
    trail = await bare.first.trail(config.id, record.key)
    events = [e.event for e in trail]
    resolved = events.index("intent-resolved")
    assert trail[resolved].data == {
        "natural_key": f"po:{order}",
        "found": True,
        "qad_id": order,
        "voided": True,
    }
    closed = [e for e in trail if e.event == "posted" and e.data["action"].startswith("close PO")]
    assert len(closed) == 1
    assert events.index("posted", resolved) == trail.index(closed[0])
    assert await bare.first.open_intents(config.id) == []

    again = await sync_connection(bare.first, "acme", remotes=remotes)

    assert again.report.status == "succeeded", again.report.error
    assert wire.closes == 1
    assert again.report.counters.closed == 0
