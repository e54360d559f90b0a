"""The client's send path and typed reads against hand-built answers (httpx.MockTransport)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cin7_fakes import ACCOUNT_ID, KEY, PagedList, error_array, make_client, rate_limited, rows

from ml_connector.cin7 import Cin7Auth, Cin7Client, LocalPacer, Purchase
from ml_connector.errors import (
    AuthRejected,
    InvalidPayload,
    NotFound,
    RateLimited,
    RecordRejected,
    Unavailable,
)
from ml_connector.testing import FakeClock

FIXTURES = Path(__file__).parents[2] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


async def collect(client: Cin7Client, **kwargs: Any) -> list[str]:
    return [row.order_number async for row in client.purchase_list(**kwargs)]


# --- paging ------------------------------------------------------------------------------------


async def test_pages_until_a_short_page_with_one_limit() -> None:
    source = PagedList(rows(7))
    client, _ = make_client(source, page_limit=3)
    assert await collect(client) == [f"PO-{n:05d}" for n in range(1, 8)]
    assert source.pages_asked() == [1, 2, 3]
    assert {r.url.params["Limit"] for r in source.requests} == {"3"}
    assert client.calls == 3


async def test_an_exact_multiple_ends_on_the_empty_page_past_the_end() -> None:
    source = PagedList(rows(6))
    client, _ = make_client(source, page_limit=3)
    assert len(await collect(client)) == 6
    assert source.pages_asked() == [1, 2, 3]


async def test_total_is_never_trusted() -> None:
    lying_high = PagedList(rows(4), total=999)
    client, _ = make_client(lying_high, page_limit=3)
    assert len(await collect(client)) == 4
    lying_low = PagedList(rows(7), total=0)
    client, _ = make_client(lying_low, page_limit=3)
    assert len(await collect(client)) == 7


async def test_an_empty_listing_costs_one_call() -> None:
    source = PagedList([])
    client, _ = make_client(source)
    assert await collect(client) == []
    assert source.requests[0].url.params["Limit"] == "1000"


async def test_a_page_without_its_list_key_is_refused() -> None:
    client, _ = make_client(lambda request: httpx.Response(200, json={"Total": 3, "Page": 1}))
    with pytest.raises(InvalidPayload, match="PurchaseList"):
        await collect(client)


async def test_a_page_repeated_forever_is_detected() -> None:
    same = rows(2)
    client, _ = make_client(
        lambda request: httpx.Response(200, json={"Total": 9, "PurchaseList": same}), page_limit=2
    )
    with pytest.raises(Unavailable, match="repeats"):
        await collect(client)


def test_page_limit_must_be_what_cin7_accepts() -> None:
    with pytest.raises(ValueError, match=r"1\.\.1000"):
        Cin7Client(ACCOUNT_ID, KEY, page_limit=5000, pacer=LocalPacer())


# --- rate limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "announced"),
    [
        (rate_limited(429, "7 Seconds"), 7.0),
        (rate_limited(429, "12"), 12.0),
        (rate_limited(503, None), 60.0),
        (error_array(400, "You have reached 60 calls per 60 seconds API limit."), 60.0),
    ],
)
async def test_a_rate_limit_mid_scan_waits_and_resumes_the_same_page(
    answer: httpx.Response, announced: float
) -> None:
    source = PagedList(rows(7), script={2: answer})
    client, clock = make_client(source, page_limit=3)
    start = clock.now
    orders = await collect(client)
    assert orders == [f"PO-{n:05d}" for n in range(1, 8)]  # nothing lost, nothing twice
    assert source.pages_asked() == [1, 2, 2, 3]
    assert client.rate_limited == 1
    assert client.calls == 4
    assert max(clock.sleeps) >= announced  # waited what the server announced
    assert clock.now - start >= announced


async def test_rate_limit_waits_do_not_use_up_retries() -> None:
    script = {n: rate_limited(429, "1") for n in (1, 2, 3, 4)}
    source = PagedList(rows(2), script=script)
    client, _ = make_client(source, retries=1)
    assert len(await collect(client)) == 2
    assert client.rate_limited == 4


async def test_a_rate_limit_wait_is_logged_as_info_not_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = PagedList(rows(2), script={1: rate_limited(429, "3 Seconds")})
    client, _ = make_client(source)
    with caplog.at_level(logging.DEBUG, logger="ml_connector"):
        assert len(await collect(client)) == 2
    waits = [r for r in caplog.records if "rate limited, waiting" in r.getMessage()]
    assert [r.levelno for r in waits] == [logging.INFO]


async def test_endless_rate_limits_are_bounded() -> None:
    client, _ = make_client(lambda request: rate_limited(429, "1"))
    with pytest.raises(RateLimited) as caught:
        await client.ping()
    assert client.rate_limited == 11
    assert caught.value.retry_after == 1.0


async def test_a_rate_limit_pauses_every_caller_of_the_key() -> None:
    clock = FakeClock()
    pacer = LocalPacer(limit=10_000, clock=clock, sleep=clock.sleep)
    source = PagedList(rows(1), script={1: rate_limited(429, "30 Seconds")})
    client, _ = make_client(source, clock=clock, pacer=pacer)
    start = clock.now
    await collect(client)
    assert clock.now - start >= 30
    other, _ = make_client(PagedList(rows(1)), clock=clock, pacer=pacer)
    await pacer.pause_for(30)  # as `client` does on a rate-limit answer
    before = clock.now
    await collect(other)
    assert clock.now - before >= 30


# --- transient failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(502, text="Bad gateway"),
        httpx.Response(200, text="<html><body>Sign in</body></html>"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "502", "html-on-200", "timeout", "connection"],
)
async def test_transient_failures_are_retried_with_backoff(
    failure: httpx.Response | Exception,
) -> None:
    source = PagedList(rows(2), script={1: failure, 2: failure})
    client, clock = make_client(source)
    assert len(await collect(client)) == 2
    assert client.calls == 3
    assert client.rate_limited == 0
    assert len(clock.sleeps) == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5 < clock.sleeps[1] <= 1.0  # jittered, growing


async def test_transient_failures_give_up_after_the_retry_budget() -> None:
    client, clock = make_client(
        lambda request: httpx.Response(200, text="<html>maintenance</html>"), retries=3
    )
    with pytest.raises(Unavailable, match="not JSON") as caught:
        await client.ping()
    assert client.calls == 4
    assert len(clock.sleeps) == 3
    assert "after 4 attempts" in str(caught.value)


# --- refusals ----------------------------------------------------------------------------------


async def test_403_is_refused_at_once_and_never_retried() -> None:
    client, clock = make_client(lambda request: error_array(403, "Incorrect credentials!"))
    with pytest.raises(AuthRejected, match="Incorrect credentials") as caught:
        await client.ping()
    assert caught.value.status == 403
    assert client.calls == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("response", "error", "text", "code"),
    [
        (error_array(404, "Purchase not found"), NotFound, "Purchase not found", 404),
        (
            httpx.Response(400, json={"ErrorCode": 400, "Exception": "ID is invalid"}),
            RecordRejected,
            "ID is invalid",
            400,
        ),
        (httpx.Response(400, text="Bad Request: ID"), RecordRejected, "Bad Request: ID", None),
        (httpx.Response(405, text=""), RecordRejected, "HTTP 405", None),
    ],
)
async def test_refusals_carry_cin7s_error_text(
    response: httpx.Response, error: type[Exception], text: str, code: int | None
) -> None:
    client, _ = make_client(lambda request: response)
    with pytest.raises(error, match=text) as caught:
        await client.purchase("5b1e7c90-3d2a-4f86-b8e1-2c9d04a7f615", "Advanced Purchase")
    assert getattr(caught.value, "code", None) == code
    assert client.calls == 1


# --- secrets -----------------------------------------------------------------------------------


async def test_the_application_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    planted = "PLANTED-KEY-7c1e4b2a"
    seen_headers: list[httpx.Headers] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers)
        key = request.headers["api-auth-applicationkey"]
        if len(seen_headers) == 1:
            return httpx.Response(500, text=f"crash while handling key {key}")
        if len(seen_headers) == 2:
            return rate_limited(429, "1")
        return error_array(400, f"Key {key} may not read this")

    caplog.set_level(logging.DEBUG)
    client, _ = make_client(echo, application_key=planted)
    with pytest.raises(RecordRejected) as caught:
        await client.ping()
    assert seen_headers[0]["api-auth-applicationkey"] == planted  # it was sent...
    assert seen_headers[0]["api-auth-accountid"] == ACCOUNT_ID
    assert planted not in str(caught.value)  # ...and shown nowhere
    assert planted not in repr(caught.value)
    assert planted not in caught.value.message
    assert planted not in repr(client)
    assert planted not in repr(Cin7Auth(ACCOUNT_ID, planted))
    assert planted not in caplog.text
    assert "[redacted]" in str(caught.value)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach with {request.headers['api-auth-applicationkey']}")

    client, _ = make_client(down, application_key=planted, retries=0)
    with pytest.raises(Unavailable) as failed:
        await client.ping()
    assert planted not in str(failed.value)
    assert failed.value.__suppress_context__ or planted not in str(failed.value.__context__)


# --- typed reads -------------------------------------------------------------------------------


def route(responses: dict[str, httpx.Response | dict[str, Any]]) -> Any:
    calls: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/ExternalApi/v2/")
        calls.append((path, dict(request.url.params)))
        answer = responses[path]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


async def test_simple_purchases_are_read_from_purchase() -> None:
    handler = route({"purchase": fixture("simple_purchase.json")})
    client, _ = make_client(handler)
    purchase = await client.purchase("5b1e7c90-3d2a-4f86-b8e1-2c9d04a7f615")
    assert isinstance(purchase, Purchase)
    assert purchase.order_number == "PO-00412"
    assert handler.calls == [("purchase", {"ID": "5b1e7c90-3d2a-4f86-b8e1-2c9d04a7f615"})]


async def test_advanced_purchases_go_straight_to_advanced_purchase() -> None:
    advanced = {**fixture("simple_purchase.json"), "Type": "Advanced Purchase"}
    advanced["StockReceived"] = [{"TaskID": advanced["ID"], **advanced["StockReceived"]}]
    handler = route({"advanced-purchase": advanced})
    client, _ = make_client(handler)
    purchase = await client.purchase(advanced["ID"], "Advanced Purchase")
    assert purchase.is_advanced
    assert [path for path, _ in handler.calls] == ["advanced-purchase"]


async def test_a_converted_purchase_falls_back_to_advanced_purchase() -> None:
    refusal = error_array(
        400,
        "This endpoint is deprecated and does not support Advanced Purchase and Service "
        "Purchase. Please use AdvancedPurchase endpoint",
    )
    advanced = {**fixture("simple_purchase.json"), "Type": "Advanced Purchase"}
    handler = route({"purchase": refusal, "advanced-purchase": advanced})
    client, _ = make_client(handler)
    purchase = await client.purchase(advanced["ID"], "Simple Purchase")
    assert purchase.type == "Advanced Purchase"
    assert [path for path, _ in handler.calls] == ["purchase", "advanced-purchase"]


async def test_other_refusals_from_purchase_do_not_fall_back() -> None:
    handler = route({"purchase": error_array(400, "ID is not a valid GUID")})
    client, _ = make_client(handler)
    with pytest.raises(RecordRejected, match="valid GUID"):
        await client.purchase("nope")
    assert [path for path, _ in handler.calls] == ["purchase"]


async def test_a_malformed_purchase_fails_that_document_only() -> None:
    broken = fixture("simple_purchase.json")
    broken["Order"]["Lines"][0]["Quantity"] = "ten"
    good = fixture("simple_purchase.json")
    answers = iter([broken, good])
    client, _ = make_client(lambda request: httpx.Response(200, json=next(answers)))
    with pytest.raises(InvalidPayload, match="Quantity"):
        await client.purchase(good["ID"])
    assert (await client.purchase(good["ID"])).order_number == "PO-00412"
    client, _ = make_client(lambda request: httpx.Response(200, json=[1, 2]))
    with pytest.raises(InvalidPayload, match="not a JSON object"):
        await client.purchase(good["ID"])


async def test_a_malformed_row_raises_or_goes_to_on_invalid() -> None:
    listing = rows(4)
    listing[1]["LastUpdatedDate"] = "last Tuesday"
    client, _ = make_client(PagedList(listing))
    with pytest.raises(InvalidPayload, match="purchase list row"):
        await collect(client)

    refused: list[tuple[str, str]] = []

    async def on_invalid(raw: Any, error: InvalidPayload) -> None:
        refused.append((raw["OrderNumber"], str(error)))

    client, _ = make_client(PagedList(listing))
    orders = [r.order_number async for r in client.purchase_list(on_invalid=on_invalid)]
    assert orders == ["PO-00001", "PO-00003", "PO-00004"]
    assert [order for order, _ in refused] == ["PO-00002"]
    assert "LastUpdatedDate" in refused[0][1]


async def test_list_filters_and_cursors_are_sent_as_cin7_names_them() -> None:
    source = PagedList(rows(1))
    client, _ = make_client(source)
    since = datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=UTC)
    await collect(client, updated_since=since, Status="COMPLETED")
    await collect(client, updated_since="2026-08-28T12:59:44.05")
    first, second = (dict(r.url.params) for r in source.requests)
    assert first == {
        "UpdatedSince": "2026-08-28T12:59:44.050",
        "Status": "COMPLETED",
        "Page": "1",
        "Limit": "1000",
    }
    assert second["UpdatedSince"] == "2026-08-28T12:59:44.05"  # a raw cursor passes as is


async def test_suppliers_include_deprecated_and_filter_by_modified_since() -> None:
    supplier = fixture("supplier.json")
    source = PagedList([supplier], list_key="SupplierList")
    client, _ = make_client(source)
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    found = [s async for s in client.suppliers(modified_since=since)]
    assert [s.name for s in found] == ["Harbour Fasteners Pty Ltd"]
    assert dict(source.requests[0].url.params) == {
        "IncludeDeprecated": "true",
        "ModifiedSince": "2026-01-02T03:04:05.000",
        "Page": "1",
        "Limit": "1000",
    }


async def test_ping_and_reference_data() -> None:
    handler = route(
        {
            "me": {"Company": "Harbour Group", "Currency": "AUD", "TimeZone": "Australia/Sydney"},
            "ref/account": {
                "Total": 2,
                "Page": 1,
                "AccountsList": [
                    {"Code": "630", "Name": "Inventory", "Type": "CURRENT", "Class": "ASSET"},
                    {"Code": "800", "Name": "Accounts Payable", "Class": "LIABILITY"},
                ],
            },
            "product": {
                "Total": 1,
                "Products": [{"ID": "0C7D2E91-4A3B-4F6E-9D18-2B5A7C3E8F01", "SKU": "WID-100"}],
            },
            "ref/location": {
                "Total": 1,
                "LocationList": [{"ID": "a1", "Name": "Main Warehouse", "Bins": None}],
            },
            "ref/tax": {
                "Total": 1,
                "TaxRuleList": [{"ID": "t1", "Name": "GST on Imports", "TaxPercent": "10.00"}],
            },
            "ref/paymentterm": {
                "Total": 1,
                "PaymentTermList": [{"ID": "p1", "Name": "30 days", "Duration": 30}],
            },
        }
    )
    client, _ = make_client(handler)
    company = await client.ping()
    assert (company.company, company.time_zone) == ("Harbour Group", "Australia/Sydney")
    assert [a.code for a in await client.accounts()] == ["630", "800"]
    products = [p async for p in client.products()]
    assert products[0].id == "0c7d2e91-4a3b-4f6e-9d18-2b5a7c3e8f01"
    assert [loc.name for loc in await client.locations()] == ["Main Warehouse"]
    assert str((await client.tax_rules())[0].tax_percent) == "10.00"
    assert (await client.payment_terms())[0].name == "30 days"
    paths = [path for path, _ in handler.calls]
    assert paths == ["me", "ref/account", "product", "ref/location", "ref/tax", "ref/paymentterm"]
    assert dict(handler.calls[2][1])["Limit"] == "1000"  # always sent on /product


async def test_the_client_is_an_async_context_manager() -> None:
    client, _ = make_client(route({"me": {"Company": "X"}}))
    async with client as cin7:
        assert (await cin7.ping()).company == "X"
    with pytest.raises(RuntimeError, match="closed"):
        await client.ping()  # leaving the block closed the connection pool


def test_the_public_surface_is_declared() -> None:
    import ml_connector.cin7 as package

    engine_needs = {"DEFAULT_BASE_URL", "Cin7Client", "IncrementalScan", "Pacer", "pacer_for"}
    assert engine_needs <= set(package.__all__)
    for name in package.__all__:
        assert hasattr(package, name), name
