"""Test doubles for the Cin7 client: a tiny paged Cin7 over MockTransport, on virtual time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from ml_connector.cin7 import Cin7Client, LocalPacer, parse_timestamp
from ml_connector.testing import FakeClock

ACCOUNT_ID = "0b7e54a3-6c1d-4f0e-9a2b-3c4d5e6f7a8b"
KEY = "9f8e7d6c-5b4a-4392-8170-fedcba987654"


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[Cin7Client, FakeClock]:
    clock = clock or FakeClock()
    pacer = kwargs.pop("pacer", None) or LocalPacer(limit=10_000, clock=clock, sleep=clock.sleep)
    client = Cin7Client(
        kwargs.pop("account_id", ACCOUNT_ID),
        kwargs.pop("application_key", KEY),
        base_url="http://cin7.test/ExternalApi/v2/",
        transport=httpx.MockTransport(handler),
        pacer=pacer,
        sleep=clock.sleep,
        **kwargs,
    )
    return client, clock


def rows(count: int, stamp: str = "2026-08-28T12:59:44.05") -> list[dict[str, Any]]:
    return [
        {
            "ID": f"00000000-0000-4000-8000-{n:012d}",
            "OrderNumber": f"PO-{n:05d}",
            "Type": "Simple Purchase",
            "Status": "ORDERED",
            "LastUpdatedDate": stamp,
        }
        for n in range(1, count + 1)
    ]


class PagedList:
    """A Cin7 list endpoint over `items`, paged by Page/Limit, with scripted interruptions.

    `script` maps a request number (1-based) to a response returned instead of the page.
    """

    def __init__(
        self,
        items: list[dict[str, Any]],
        list_key: str = "PurchaseList",
        script: dict[int, httpx.Response | Exception] | None = None,
        total: int | None = None,
    ) -> None:
        self.items = items
        self.list_key = list_key
        self.script = script or {}
        self.total = total
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        scripted = self.script.get(len(self.requests))
        if isinstance(scripted, Exception):
            raise scripted
        if scripted is not None:
            return scripted
        page = int(request.url.params.get("Page", 1))
        limit = int(request.url.params.get("Limit", 100))
        chunk = self.items[(page - 1) * limit : page * limit]
        total = len(self.items) if self.total is None else self.total
        return httpx.Response(200, json={"Total": total, "Page": page, self.list_key: chunk})

    def pages_asked(self) -> list[int]:
        return [int(r.url.params["Page"]) for r in self.requests]


def error_array(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps([{"ErrorCode": status, "Exception": text}]))


def rate_limited(status: int = 429, retry_after: str | None = "60 Seconds") -> httpx.Response:
    headers = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return httpx.Response(
        status,
        text="You have reached 60 calls per 60 seconds API limit.",
        headers={**headers, "content-type": "text/plain"},
    )


class ChangingList(PagedList):
    """A purchase list that honours `UpdatedSince`/`ModifiedSince` (strictly after) and changes.

    Rows are kept in OrderNumber order, as Cin7 lists them, not in stamp order.
    """

    def __init__(self, items: list[dict[str, Any]], list_key: str = "PurchaseList") -> None:
        super().__init__(items, list_key)
        self.stamp_key = "LastModifiedOn" if list_key == "SupplierList" else "LastUpdatedDate"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("UpdatedSince") or request.url.params.get("ModifiedSince")
        everything = self.items
        if since:
            cut = parse_timestamp(since)
            self.items = [r for r in everything if parse_timestamp(r[self.stamp_key]) > cut]
        try:
            return super().__call__(request)
        finally:
            self.items = everything

    def stamp(self, numbers: list[int], stamp: str) -> None:
        for n in numbers:
            self.items[n - 1][self.stamp_key] = stamp
