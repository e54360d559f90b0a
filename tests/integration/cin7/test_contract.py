"""Contract: the Cin7 client against the Cin7 sandbox, over real HTTP and in-process.

Every test runs twice: `http` serves the sandbox with uvicorn on 127.0.0.1 (a free port) and
the client talks to it over a socket; `asgi` hands the client an `httpx.ASGITransport`. The
sandbox's clock is a virtual one that the client's injected sleep advances, so rate-limit
windows are waited out without real sleeping.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from ml_connector.cin7 import Cin7Client, IncrementalScan, LocalPacer
from ml_connector.errors import AuthRejected
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.serve import ServerThread
from ml_connector.testing import FakeClock

Connect = Callable[..., Cin7Client]


class Recording(httpx.AsyncBaseTransport):
    """Notes each exchange with the virtual time it was sent at."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock
        self.log: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = self.clock.now
        response = await self.inner.handle_async_request(request)
        self.log.append(
            {
                "at": sent,
                "path": request.url.path.rsplit("/", 1)[-1],
                "page": request.url.params.get("Page"),
                "status": response.status_code,
                "retry_after": response.headers.get("Retry-After"),
                "html": response.headers.get("content-type", "").startswith("text/html"),
            }
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(params=["http", "asgi"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


@pytest.fixture
def connect(mode: str, clock: FakeClock) -> Iterator[Connect]:
    """`connect(sandbox, **client_kwargs)`: a client on the sandbox, in the test's mode."""
    servers: list[ServerThread] = []
    recordings: list[Recording] = []

    def make(sb: Cin7Sandbox, key: str | None = None, **kwargs: Any) -> Cin7Client:
        if mode == "http":
            server = ServerThread(sb.app).start()
            servers.append(server)
            base = f"{server.url}/ExternalApi/v2/"
            inner: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
        else:
            base = "http://cin7.sandbox/ExternalApi/v2/"
            inner = httpx.ASGITransport(app=sb.app)
        transport = Recording(inner, clock)
        recordings.append(transport)
        pacer = kwargs.pop("pacer", None) or LocalPacer(
            limit=100_000, clock=clock, sleep=clock.sleep
        )
        client = Cin7Client(
            sb.account_id,
            key or sb.application_key,
            base_url=base,
            transport=transport,
            pacer=pacer,
            **{"sleep": clock.sleep, **kwargs},
        )
        client.recording = transport  # type: ignore[attr-defined]
        return client

    yield make
    for server in servers:
        server.stop()


class Held:
    def __init__(self) -> None:
        self.versions: dict[str, str] = {}

    async def seen(self, cin7_id: str, stamp_raw: str) -> bool:
        return self.versions.get(cin7_id) == stamp_raw

    async def take(self, scan: IncrementalScan[Any]) -> set[str]:
        ids = set()
        async for row in scan:
            assert row.id not in ids
            ids.add(row.id)
            self.versions[row.id] = row.last_updated_raw
        return ids


async def listed(client: Cin7Client) -> AsyncIterator[str]:
    async for row in client.purchase_list():
        yield row.id or ""


def all_ids(sb: Cin7Sandbox) -> set[str]:
    return {p.id.lower() for p in sb.state.purchases}


@pytest.mark.parametrize("page_limit", [1000, 100])
async def test_2500_purchases_are_paged_each_exactly_once(
    connect: Connect, page_limit: int
) -> None:
    sb = create_cin7_sandbox(seed=11, purchases=2500, rate_limit=100_000)
    async with connect(sb, page_limit=page_limit) as client:
        ids = [purchase_id async for purchase_id in listed(client)]
    assert len(ids) == 2500
    assert set(ids) == all_ids(sb)
    pages = math.ceil(2500 / page_limit) + (2500 % page_limit == 0)  # + the empty page
    assert client.calls == pages
    assert sb.state.stats()["by_path"] == {"purchaseList": pages}


@pytest.mark.parametrize("status", [429, 503])
async def test_a_rate_limit_mid_scan_waits_and_resumes_the_same_page(
    connect: Connect, clock: FakeClock, status: int
) -> None:
    # The server allows 4 calls a minute; this client's own pacer believes in 1000 (as when
    # another process shares the key), so the server's refusals arrive mid-scan.
    sb = create_cin7_sandbox(
        seed=7, purchases=300, rate_limit=4, rate_limit_status=status, clock=clock
    )
    pacer = LocalPacer(limit=1000, clock=clock, sleep=clock.sleep)
    async with connect(sb, page_limit=25, pacer=pacer) as client:
        ids = [purchase_id async for purchase_id in listed(client)]
    assert len(ids) == 300
    assert set(ids) == all_ids(sb)  # nothing lost, nothing twice
    log = client.recording.log  # type: ignore[attr-defined]
    refusals = [entry for entry in log if entry["status"] == status]
    assert len(refusals) >= 3
    assert client.rate_limited == len(refusals) == sb.state.stats()["rate_limited"]
    answered = [int(entry["page"]) for entry in log if entry["status"] == 200]
    assert answered == list(range(1, 14))  # 12 full pages and the empty one, in order
    for refused, following in itertools.pairwise(log):
        if refused["status"] != status:
            continue
        assert following["page"] == refused["page"]  # the same page again
        announced = int(refused["retry_after"].split()[0])
        assert refused["retry_after"].endswith("Seconds")
        assert following["at"] - refused["at"] >= announced  # waited what was announced


async def test_a_client_paced_at_the_servers_limit_is_never_refused(
    connect: Connect, clock: FakeClock
) -> None:
    sb = create_cin7_sandbox(seed=7, suppliers=10, purchases=40, rate_limit=6, clock=clock)
    pacer = LocalPacer(limit=6, clock=clock, sleep=clock.sleep)
    async with connect(sb, page_limit=10, pacer=pacer) as client:
        rows = [row async for row in client.purchase_list()]
        for row in rows[:20]:
            await client.purchase(row.id or "", row.type)
    assert client.rate_limited == 0
    assert sb.state.stats()["rate_limited"] == 0
    assert client.calls == 25
    assert clock.now >= 4 * 60  # 25 calls at 6 a minute span four full windows


async def test_a_bad_key_is_refused_with_403_and_not_retried(
    connect: Connect, clock: FakeClock
) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=10)
    wrong = "11111111-2222-4333-8444-555555555555"
    async with connect(sb, key=wrong) as client:
        with pytest.raises(AuthRejected, match="authentication failed") as caught:
            await client.ping()
    assert caught.value.status == 403
    assert client.calls == 1
    assert sb.state.stats()["calls"] == 1
    assert clock.sleeps == []
    assert wrong not in str(caught.value)
    assert wrong not in repr(client)


async def test_html_on_200_and_5xx_are_retried(connect: Connect, clock: FakeClock) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=120, rate_limit=100_000, clock=clock)
    expected = {row["ID"]: row["OrderNumber"] for row in map(sb.state.row, sb.state.purchases)}
    sb.state.set_faults(error_rate=0.25, html_rate=0.25)
    backoffs: list[float] = []

    async def backoff(seconds: float) -> None:
        backoffs.append(seconds)
        await clock.sleep(seconds)

    async with connect(sb, page_limit=20, retries=12, sleep=backoff) as client:
        rows = [row async for row in client.purchase_list()]
        details = [await client.purchase(row.id or "", row.type) for row in rows[:40]]
    assert {row.id: row.order_number for row in rows} == expected
    assert [d.order_number for d in details] == [row.order_number for row in rows[:40]]
    log = client.recording.log  # type: ignore[attr-defined]
    errors = sum(1 for entry in log if entry["status"] == 500)
    html = sum(1 for entry in log if entry["status"] == 200 and entry["html"])
    assert errors > 0  # both faults did happen...
    assert html > 0
    successes = 7 + 40  # ...and every call that failed was sent again until it succeeded
    assert client.calls == len(log) == sb.state.stats()["calls"] == successes + errors + html
    assert client.rate_limited == 0
    assert len(backoffs) == errors + html  # one jittered backoff per failure
    assert all(0.25 <= delay <= 30 for delay in backoffs)


async def test_timeouts_are_retried_over_http() -> None:
    # Over a socket only: ASGITransport applies no timeouts.
    sb = create_cin7_sandbox(seed=7, purchases=30, rate_limit=100_000)
    sb.state.set_faults(timeout_rate=0.3, timeout_seconds=0.6)
    clock = FakeClock()
    with ServerThread(sb.app) as server:
        client = Cin7Client(
            sb.account_id,
            sb.application_key,
            base_url=f"{server.url}/ExternalApi/v2/",
            pacer=LocalPacer(limit=100_000, clock=clock, sleep=clock.sleep),
            sleep=clock.sleep,
            timeout=0.2,
            retries=10,
        )
        async with client:
            rows = [row async for row in client.purchase_list()]
            details = [await client.purchase(row.id or "", row.type) for row in rows[:10]]
    assert len(rows) == 30
    assert [d.id for d in details] == [row.id for row in rows[:10]]
    assert client.calls > 11  # some calls timed out and were sent again
    assert client.calls == sb.state.stats()["calls"]


async def test_detail_calls_are_routed_by_type_with_the_fallback(connect: Connect) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=60, rate_limit=100_000)
    async with connect(sb) as client:
        rows = [row async for row in client.purchase_list()]
        simple = next(row for row in rows if row.is_simple)
        advanced = next(row for row in rows if not row.is_simple)
        assert not (await client.purchase(simple.id or "", simple.type)).is_advanced
        assert (await client.purchase(advanced.id or "", advanced.type)).is_advanced
        sb.state.convert(simple.id or "")  # converted after it was listed
        converted = await client.purchase(simple.id or "", simple.type)
    assert converted.is_advanced
    assert converted.order_number == simple.order_number
    assert sb.state.stats()["by_path"] == {
        "purchaseList": 1,
        "purchase": 2,
        "advanced-purchase": 2,
    }


def _payable(sb: Cin7Sandbox) -> Any:
    """The last purchase with an authorised invoice still to pay."""
    return next(
        p
        for p in reversed(sb.state.purchases)
        if not p.voided
        and any(inv.status == "AUTHORISED" and inv.total > inv.paid for inv in p.invoices())
    )


def _mutate(sb: Cin7Sandbox) -> set[str]:
    """Change a handful of purchases the ways users do; returns their IDs."""
    state = sb.state
    open_orders = [
        p for p in state.purchases if p.order_status == "AUTHORISED" and not p.voided and p.lines
    ]
    edited, voided = open_orders[3], open_orders[10]
    paid = _payable(sb)
    line = edited.lines[0]
    state.edit(edited.id, [{"sku": line.sku, "quantity": str(line.quantity + 1)}])
    state.void(voided.id)
    state.pay(paid.id)
    created = state.create_purchase("STOCK", [{"sku": line.sku, "quantity": 5, "price": "2.50"}])
    return {edited.id.lower(), voided.id.lower(), paid.id.lower(), created["ID"].lower()}


async def test_incremental_listing_after_edits_returns_exactly_the_edited_purchases(
    connect: Connect,
) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=300, rate_limit=100_000)
    held = Held()
    async with connect(sb, page_limit=100) as client:
        first = IncrementalScan(client.purchase_list, None, held.seen)
        assert await held.take(first) == all_ids(sb)
        quiet = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
        assert await held.take(quiet) == set()
        assert quiet.new_cursor == first.new_cursor
        changed = _mutate(sb)
        after = IncrementalScan(client.purchase_list, quiet.new_cursor, held.seen)
        assert await held.take(after) == changed
    newest = max(sb.state.purchases, key=lambda p: p.updated)
    assert after.new_cursor == sb.state.row(newest)["LastUpdatedDate"]


async def test_suppliers_are_listed_incrementally(connect: Connect) -> None:
    sb = create_cin7_sandbox(seed=7, suppliers=40, purchases=10, rate_limit=100_000)
    held = Held()
    async with connect(sb, page_limit=15) as client:
        first = IncrementalScan(client.suppliers, None, held.seen)
        everyone = set()
        async for supplier in first:
            everyone.add(supplier.id)
            held.versions[supplier.id or ""] = supplier.last_modified_raw
        again = IncrementalScan(client.suppliers, first.new_cursor, held.seen)
        assert [s async for s in again] == []
    assert len(everyone) == 40
    assert first.new_cursor


async def test_a_bulk_touch_larger_than_a_page_does_not_stall_the_cursor(
    connect: Connect,
) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=300, rate_limit=100_000)
    held = Held()
    async with connect(sb, page_limit=50) as client:
        first = IncrementalScan(client.purchase_list, None, held.seen)
        await held.take(first)
        assert sb.state.touch(180) == 180  # one identical stamp over 3.6 pages
        touched = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
        assert await held.take(touched) == {p.id.lower() for p in sb.state.purchases[:180]}
        tie = sb.state.row(sb.state.purchases[0])["LastUpdatedDate"]
        assert touched.new_cursor == tie
        quiet = IncrementalScan(client.purchase_list, touched.new_cursor, held.seen)
        assert await held.take(quiet) == set()
        last = _payable(sb)
        sb.state.pay(last.id)
        after = IncrementalScan(client.purchase_list, quiet.new_cursor, held.seen)
        assert await held.take(after) == {last.id.lower()}
        assert after.new_cursor is not None
        assert after.new_cursor > tie  # the cursor moved past the tie group
