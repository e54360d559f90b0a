"""Send path: what is retried, what is not, envelopes, the concurrency bound, browse paging."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from qad_fakes import PASSWORD, FakeQad, ok, settings

from ml_connector.errors import ConfigError, RecordRejected, Unavailable, WriteOutcomeUnknown
from ml_connector.qad.rest import transport as transport_module
from ml_connector.qad.rest.browse import BrowsePaginator, Filter
from ml_connector.qad.rest.transport import is_duplicate, is_stale, parse_submit_result, rejected


def flaky(failures: list[Any]) -> Any:
    """An api that answers each item of `failures` in turn (a Response, or raises an exception)."""

    def api(request: httpx.Request) -> httpx.Response:
        if failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return ok({"items": [{"itemCode": "X"}]})

    return api


TRANSIENT = [
    httpx.Response(500, json={"errors": [{"message": "boom"}]}),
    httpx.Response(502, text="<html>bad gateway</html>"),
    httpx.Response(200, text="<html>maintenance</html>"),
    httpx.Response(429, json={}),
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("closed"),
]


@pytest.mark.parametrize(
    "failure", TRANSIENT, ids=lambda f: type(f).__name__ + str(getattr(f, "status_code", ""))
)
async def test_reads_are_retried_on_transient_failures(failure: Any) -> None:
    qad = FakeQad()
    qad.api = flaky([failure, failure])
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with qad.client(sleep=sleep) as client:
        body = await client.transport.get("api/erp/items")
    assert body["data"]["items"][0]["itemCode"] == "X"
    assert qad.api_calls == 3
    assert len(delays) == 2


async def test_reads_give_up_as_unavailable_after_the_retries() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(503, text="<html>down</html>")
    async with qad.client(retries=3) as client:
        with pytest.raises(Unavailable, match="after 4 attempts") as caught:
            await client.transport.get("api/erp/items")
    assert qad.api_calls == 4
    assert caught.value.status == 503
    assert "tok-" not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={}),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("closed"),
    ],
    ids=["500", "502-html", "200-html", "read-timeout", "protocol"],
)
async def test_a_write_that_may_have_landed_is_not_retried(failure: Any) -> None:
    qad = FakeQad()
    qad.api = flaky([failure])
    async with qad.client() as client:
        with pytest.raises(WriteOutcomeUnknown, match="may or may not"):
            await client.transport.post("api/erp/purchaseOrderReceipts", {}, idempotent=False)
    assert qad.api_calls == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no connect"),
        httpx.Response(429, json={}),
    ],
    ids=["connect-error", "connect-timeout", "429"],
)
async def test_a_write_that_never_reached_qad_is_retried(failure: Any) -> None:
    qad = FakeQad()
    qad.api = flaky([failure])
    async with qad.client() as client:
        await client.transport.post("api/erp/purchaseOrderReceipts", {}, idempotent=False)
    assert qad.paths["api/erp/purchaseOrderReceipts"] == 2  # the failed try, then the retry


async def test_a_write_is_resent_after_a_401_because_qad_did_not_process_it() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        await client.transport.get("api/erp/items")
        qad.expire_all()
        await client.transport.post("api/erp/purchaseOrderReceipts", {}, idempotent=False)
    assert qad.paths["api/erp/purchaseOrderReceipts"] == 2
    assert qad.unauthorized == 1


async def test_idempotent_posts_are_retried() -> None:
    qad = FakeQad()
    qad.api = flaky([httpx.Response(500, json={})])
    async with qad.client() as client:
        await client.transport.post("api/erp/purchaseOrderLines/fieldChangeV2", {}, idempotent=True)
    assert qad.api_calls == 2


async def test_404_and_redirects_are_configuration_errors_and_not_retried() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(404, text="<html>no</html>")
    async with qad.client() as client:
        with pytest.raises(ConfigError, match="404"):
            await client.transport.get("api/erp/items")
        qad.api = lambda request: httpx.Response(302, headers={"Location": "http://10.0.0.1/"})
        with pytest.raises(ConfigError, match="redirect"):
            await client.transport.get("api/erp/items")
    assert qad.api_calls == 2


async def test_a_4xx_without_an_envelope_is_a_record_rejection() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(
        400, json={"errors": [{"message": "bad filter", "fieldName": "x", "severity": 1}]}
    )
    async with qad.client() as client:
        with pytest.raises(RecordRejected, match="bad filter"):
            await client.transport.get("api/erp/items")
    assert qad.api_calls == 1


async def test_concurrency_is_bounded() -> None:
    qad = FakeQad()
    in_flight = 0
    peak = 0

    async def api(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return ok()

    qad.api = api
    async with qad.client(max_concurrency=3) as client:
        await asyncio.gather(*(client.transport.get("api/erp/items") for _ in range(12)))
    assert peak == 3


async def test_messages_never_carry_the_token_or_password() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(
        500, text=f"<html>{request.headers['Authorization']} {PASSWORD}</html>"
    )
    async with qad.client(retries=1) as client:
        with pytest.raises(Unavailable) as caught:
            await client.transport.get("api/erp/items")
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert "tok-1" not in text
        assert PASSWORD not in text


# ---- envelopes ----------------------------------------------------------------------------------


def _envelope(success: bool, *entries: dict[str, Any], severity: int | None = None) -> dict:
    return {
        "data": {},
        "submitResult": {
            "success": success,
            "errorSeverity": (0 if success else 1) if severity is None else severity,
            "errors": list(entries),
        },
    }


def test_success_with_warnings() -> None:
    result = parse_submit_result(
        _envelope(
            True,
            {
                "fieldName": "invoiceReference",
                "message": "The reference already exists",
                "fieldValue": "INV-1",
                "code": "3001",
                "severity": 0,
            },
        )
    )
    assert result.success
    assert result.errors == []
    assert [(w.field, w.message, w.value, w.code, w.severity) for w in result.warnings] == [
        ("invoiceReference", "The reference already exists", "INV-1", "3001", "warning")
    ]


def test_failure_carries_field_errors() -> None:
    result = parse_submit_result(
        _envelope(
            False,
            {
                "fieldName": "itemCode",
                "message": "Item does not exist",
                "fieldValue": "NOPE",
                "code": "1",
                "severity": 1,
            },
        )
    )
    assert not result.success
    assert result.errors[0].field == "itemCode"
    error = rejected(result, "line")
    assert isinstance(error, RecordRejected)
    assert error.message == "Item does not exist"
    assert error.errors[0].value == "NOPE"


def test_read_without_submit_result_is_success() -> None:
    assert parse_submit_result({"data": {"items": []}}).success


@pytest.mark.parametrize(
    "body",
    [
        _envelope(True, {"message": "bad", "severity": 1}),
        _envelope(True, severity=1),
        _envelope(False),
        _envelope(False, {"message": "only a warning", "severity": 0}),
    ],
)
def test_anything_short_of_a_clean_success_is_a_failure(body: dict) -> None:
    result = parse_submit_result(body)
    assert not result.success
    assert result.errors


def test_duplicate_and_stale_answers_are_recognised() -> None:
    dup = parse_submit_result(
        _envelope(False, {"message": "Supplier S1 already exists", "code": "2040", "severity": 1})
    )
    stale = parse_submit_result(
        _envelope(False, {"message": "Record has been changed by another user", "severity": 1})
    )
    assert is_duplicate(dup)
    assert not is_stale(dup)
    assert is_stale(stale)
    assert not is_duplicate(stale)


# ---- browse paging ------------------------------------------------------------------------------


def test_paginator_asks_page_by_page_until_has_more_is_false() -> None:
    pager = BrowsePaginator(
        "mfg:gp340", page_size=2, filters=(Filter("pt_mstr.pt_part", "sw", "W"),)
    )
    first = dict(pager.params())
    assert first["pageAction"] == "first"
    assert first["filter"] == "pt_mstr.pt_part,sw,W,literal"
    rows = pager.update({"data": [{"a": 1}, {"a": 2}], "auxillaryData": {"HasMoreParams": "true"}})
    assert len(rows) == 2
    assert not pager.done
    assert pager.page == 2
    assert "pageAction" not in dict(pager.params())
    assert dict(pager.params())["callId"] == first["callId"]
    pager.update({"data": [{"a": 3}], "auxillaryData": {"HasMoreParams": "false"}})
    assert pager.done


def test_paginator_stops_on_an_empty_page_even_if_told_there_is_more() -> None:
    pager = BrowsePaginator("x")
    pager.update({"data": [], "auxillaryData": {"HasMoreParams": "true"}})
    assert pager.done


def test_paginator_stops_at_max_pages() -> None:
    pager = BrowsePaginator("x", max_pages=2)
    more = {"data": [{"a": 1}], "auxillaryData": {"HasMoreParams": "true"}}
    pager.update(more)
    pager.update(more)
    assert pager.done


def test_filters_refuse_commas() -> None:
    with pytest.raises(ValueError, match="comma"):
        Filter("a.b", "eq", "x,y")


async def test_browse_rows_are_fetched_across_pages() -> None:
    qad = FakeQad()
    pages: list[dict[str, str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        pages.append(params)
        page = int(params["page"])
        rows = [{"site.siteCode": f"S{page}{n}", "site.description": "d"} for n in range(2)]
        return httpx.Response(
            200,
            json={
                "data": rows,
                "auxillaryData": {"HasMoreParams": "true" if page < 3 else "false"},
            },
        )

    qad.api = api
    async with qad.client() as client:
        sites = await client.sites()
    assert [s.code for s in sites] == ["S10", "S11", "S20", "S21", "S30", "S31"]
    assert [p["page"] for p in pages] == ["1", "2", "3"]
    assert pages[0]["browseId"] == "urn:browse:bebrowse:com.qad.erp.base.sites"


async def test_query_strings_are_encoded_as_httpx_encodes_params() -> None:
    qad = FakeQad()
    seen: list[httpx.URL] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return ok()

    qad.api = api
    params = {"purchaseOrderNumber": "PO 1/2&x", "viewUri": "urn:be:com.qad.X", "blank": ""}
    async with qad.client() as client:
        await client.transport.get("api/erp/purchaseOrderHeaders", params)
        await client.transport.get("api/erp/purchaseOrderHeaders", params)  # the kept URL
        await client.transport.get("api/erp/items", [("itemCode", "W1"), ("itemCode", "W2")])
        await client.transport.get("api/erp/items")
    expected = httpx.AsyncClient(base_url=settings().base_url + "/").build_request(
        "GET", "api/erp/purchaseOrderHeaders", params=params
    )
    assert seen[0] == seen[1] == expected.url
    assert seen[2].params.get_list("itemCode") == ["W1", "W2"]
    assert str(seen[3]).endswith("/api/erp/items")


async def test_a_url_dropped_from_the_kept_ones_is_built_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_module, "URL_CACHE_SIZE", 3)
    qad = FakeQad()
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params["itemCode"])
        return ok()

    qad.api = api
    async with qad.client() as client:
        for code in ["A", "B", "C", "D", "E", "A"]:
            await client.transport.get("api/erp/items", {"itemCode": code})
    assert seen == ["A", "B", "C", "D", "E", "A"]


async def test_a_renewed_token_is_sent_from_the_next_request_on() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        await client.transport.get("api/erp/items")
        qad.expire_all()  # QAD forgets the token: a 401, one renewal, the same call again
        await client.transport.get("api/erp/items")
        await client.transport.get("api/erp/items", headers={"X-Extra": "1"})
    assert qad.seen_auth == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
