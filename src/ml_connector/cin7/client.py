"""The Cin7 Core client: typed reads over one paced, retrying, authenticated send path.

The send path has one concern per layer (style §2.2):

    pacer (rate budget per application key)
      → retry (rate-limit waits, jittered backoff, error classification: `retry.decide`)
        → auth (the two `api-auth-*` headers, added by `Cin7Auth`)
          → transport (`ml_connector.wire`'s lean HTTP/1.1 path; an injected httpx transport,
            such as the sandbox in-process, goes through httpx)

The client only reads: the connector never writes to Cin7, and a retried POST would duplicate.
The application key never appears in an exception, a log line or a repr.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from ml_connector import backoff
from ml_connector.cin7.models import (
    Account,
    Cin7Model,
    Company,
    Location,
    PaymentTerm,
    Product,
    Purchase,
    PurchaseListRow,
    Supplier,
    TaxRule,
    format_timestamp,
    read_document,
)
from ml_connector.cin7.pacer import Pacer, pacer_for
from ml_connector.cin7.paging import DEFAULT_LIMIT, Paginator, page_items
from ml_connector.cin7.retry import Decision, Outcome, decide
from ml_connector.cin7.source import OnInvalid, Since
from ml_connector.errors import (
    AuthRejected,
    InvalidPayload,
    NotFound,
    RateLimited,
    RecordRejected,
    Unavailable,
)
from ml_connector.wire import (
    AnswerHeaders,
    Header,
    HttpClient,
    HttpTransport,
    Target,
    behind_proxy,
    query_string,
)

DEFAULT_BASE_URL = "https://inventory.dearsystems.com/ExternalApi/v2/"
MAX_RATE_LIMIT_WAITS = 10  # consecutive rate-limit answers to one request before giving up
ENDPOINT_CACHE_SIZE = 64
_PLAIN = (str, int)  # query values written as `str(value)`, as httpx writes them (not bool)

log = logging.getLogger("ml_connector.cin7")

T = TypeVar("T")
M = TypeVar("M", bound=Cin7Model)
Sleep = Callable[[float], Awaitable[None]]

_REDACTED = "[redacted]"


class Cin7Auth:
    """Cin7's two authentication headers, sent with every request."""

    def __init__(self, account_id: str, application_key: SecretStr) -> None:
        self._account_id = account_id
        self._key = application_key

    def __repr__(self) -> str:
        return f"Cin7Auth(account_id={self._account_id!r}, application_key={_REDACTED!r})"

    def headers(self) -> tuple[Header, ...]:
        """The two headers as they go on the wire, after the client's own (UTF-8, as httpx
        encoded them when it set them on each request)."""
        return (
            (b"api-auth-accountid", self._account_id.encode()),
            (b"api-auth-applicationkey", self._key.get_secret_value().encode()),
        )


class Cin7Client:
    """An async client for Cin7 Core's REST API v2 (read side).

    >>> async with Cin7Client(account_id, key, transport=httpx.ASGITransport(app)) as cin7:
    ...     company = await cin7.ping()
    ...     async for row in cin7.purchase_list(updated_since=cursor):
    ...         purchase = await cin7.purchase(row.id, row.type)

    Every request waits for the application key's `Pacer` (one per key in the process unless
    `pacer=` is given). Rate-limit answers (429, 503, or a 400 about "calls per 60 seconds")
    pause the pacer for the announced `Retry-After` and the same request is sent again; they do
    not use up `retries`, but more than ten in a row raise `RateLimited`. Timeouts, connection
    errors, 5xx and non-JSON 200s are retried with jittered exponential backoff, then raise
    `Unavailable`. A 401/403 raises `AuthRejected` at once; a 404 `NotFound`; another 4xx
    `RecordRejected` carrying Cin7's `ErrorCode` and `Exception` text.

    `calls` counts HTTP requests sent, `rate_limited` the rate-limit answers received.

    Requests go through `ml_connector.wire`'s lean path (`HttpClient.call`); redirects are not
    followed. When the environment names a proxy for the base URL (`HTTPS_PROXY`, `ALL_PROXY`,
    not bypassed by `NO_PROXY`) they go through httpx, which sends via that proxy and reads the
    environment's certificate settings (`SSL_CERT_FILE`): Cin7 is on the internet, and egress
    proxies are common. A `transport` (tests: `httpx.MockTransport`, `httpx.ASGITransport`) is
    sent to via httpx.
    """

    def __init__(
        self,
        account_id: str,
        application_key: str | SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: Pacer | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        sleep: Sleep = asyncio.sleep,
        page_limit: int = DEFAULT_LIMIT,
    ) -> None:
        key = (
            application_key
            if isinstance(application_key, SecretStr)
            else SecretStr(application_key)
        )
        Paginator(limit=page_limit)  # validates 1..1000 up front
        self.account_id = account_id
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.pacer = pacer if pacer is not None else pacer_for(key)
        self.retries = retries
        self.page_limit = page_limit
        self.calls = 0
        self.rate_limited = 0
        self._key = key
        self._sleep = sleep
        self._auth = Cin7Auth(account_id, key).headers()
        self._targets: dict[str, Target] = {}
        # Behind a proxy the environment names, httpx's own transport sends (through its proxy
        # mounts, with the environment's certificate settings); otherwise the lean one.
        proxied = transport is None and behind_proxy(self.base_url)
        self._http = HttpClient(
            transport=None if proxied else transport or HttpTransport(httpx.Limits()),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json"},
            follow_redirects=False,
            trust_env=proxied,
        )

    def __repr__(self) -> str:
        return (
            f"Cin7Client(account_id={self.account_id!r}, base_url={self.base_url!r}, "
            f"application_key={_REDACTED!r}, calls={self.calls}, rate_limited={self.rate_limited})"
        )

    async def __aenter__(self) -> Cin7Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- send path -------------------------------------------------------------------------

    async def get_json(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `endpoint` (relative to the base URL) through the whole send path; parsed JSON."""
        return await self._send("GET", endpoint, dict(params or {}))

    async def _send(self, method: str, endpoint: str, params: dict[str, Any]) -> Any:
        """Pacer → retry: admit, attempt, and act on the decision until done or out of tries."""
        failures = 0
        rate_waits = 0
        while True:
            slot = await self.pacer.acquire()
            try:
                decision = await self._attempt(method, endpoint, params)
            finally:
                await self.pacer.release(slot)
            what = f"{method} {endpoint}"
            outcome = decision.outcome
            if outcome is Outcome.OK:
                return decision.body
            if outcome is Outcome.RATE_LIMITED:
                self.rate_limited += 1
                rate_waits += 1
                if rate_waits > MAX_RATE_LIMIT_WAITS:
                    raise RateLimited(
                        self._redact(f"{what}: still rate limited after {rate_waits} waits"),
                        system="cin7",
                        retry_after=decision.retry_after,
                    )
                # A rate-limit wait is Cin7 working as documented, not a fault: info, not warning.
                log.info(
                    "cin7 %s: rate limited, waiting %.1f s (%s)",
                    what,
                    decision.retry_after,
                    self._redact(decision.message),
                )
                # Every caller on this key waits, not only this one; the pacer's margin keeps
                # clock skew from making us knock a moment before the announced time.
                await self.pacer.pause_for(decision.retry_after + self.pacer.margin)
                continue
            if outcome is Outcome.RETRY:
                failures += 1
                if failures > self.retries:
                    raise Unavailable(
                        self._redact(f"{what}: {decision.message} (after {failures} attempts)"),
                        system="cin7",
                        status=decision.status,
                        code=decision.code,
                        errors=decision.errors,
                    )
                delay = backoff.CIN7.delay(failures)
                log.info(
                    "cin7 %s: %s; retry %d/%d in %.2f s",
                    what,
                    self._redact(decision.message),
                    failures,
                    self.retries,
                    delay,
                )
                await self._sleep(delay)
                continue
            raise self._error(what, decision)

    async def _attempt(self, method: str, endpoint: str, params: dict[str, Any]) -> Decision:
        """Auth → transport: one HTTP request, its failure modes turned into a `Decision`."""
        self.calls += 1
        try:
            answer = await self._http.call(method, self._target(endpoint, params), self._auth)
            text = answer.text
        except httpx.TimeoutException as exc:
            return Decision(Outcome.RETRY, message=f"timed out ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return Decision(Outcome.RETRY, message=f"connection failed ({type(exc).__name__})")
        return decide(answer.status_code, text, AnswerHeaders(answer.headers))

    def _target(self, endpoint: str, params: dict[str, Any]) -> Target:
        """Where `endpoint` with `params` is sent: `httpx.URL(url, params=params)`, the URL of
        `endpoint` parsed once and the query (string and integer values) added to it."""
        text = self.base_url + endpoint.lstrip("/")
        base = self._targets.get(endpoint)
        if base is None:
            if len(self._targets) >= ENDPOINT_CACHE_SIZE:
                self._targets.clear()
            base = self._targets[endpoint] = Target(httpx.URL(text, params={}))
        if not params:
            return base
        pairs = [(name, str(value)) for name, value in params.items() if type(value) in _PLAIN]
        if len(pairs) == len(params) and base.bare:
            url = functools.partial(httpx.URL, text, params=dict(params))
            return base.with_query(query_string(pairs), url)
        return Target(httpx.URL(text, params=params))

    def _error(self, what: str, decision: Decision) -> Exception:
        status = decision.status
        message = self._redact(f"{what}: {decision.message}")
        errors = decision.errors
        if decision.outcome is Outcome.AUTH:
            return AuthRejected(message, system="cin7", status=status, code=decision.code)
        if decision.outcome is Outcome.NOT_FOUND:
            return NotFound(message, system="cin7", status=status, code=decision.code)
        return RecordRejected(
            message, system="cin7", status=status, code=decision.code, errors=errors
        )

    def _redact(self, text: str) -> str:
        secret = self._key.get_secret_value()
        return text.replace(secret, _REDACTED) if secret else text

    # --- paging ----------------------------------------------------------------------------

    async def iter_pages(
        self, endpoint: str, list_key: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each page's rows until a short page; the only paging loop of the client.

        A rate-limit answer mid-listing is waited out and the *same* page asked again, so
        nothing is lost or repeated. Stops on a page with fewer rows than `page_limit` (the one
        value both sent as `Limit` and compared against), never on `Total`.
        """
        pages = Paginator(limit=self.page_limit)
        previous_ids: list[Any] | None = None
        while not pages.done:
            body = await self.get_json(endpoint, {**(params or {}), **pages.params()})
            items = page_items(body, list_key)
            ids = [item.get("ID", item.get("Code")) for item in items]
            if items and ids == previous_ids and None not in ids:
                # Cin7 is known to repeat one page forever when Limit is dropped (§3).
                raise Unavailable(
                    f"GET {endpoint}: page {pages.page} repeats the previous page",
                    system="cin7",
                )
            previous_ids = ids
            pages.update(items)
            yield items

    async def _rows(
        self,
        endpoint: str,
        list_key: str,
        params: Mapping[str, Any],
        parse: Callable[[Mapping[str, Any]], T],
        on_invalid: OnInvalid | None,
    ) -> AsyncIterator[T]:
        async for page in self.iter_pages(endpoint, list_key, params):
            for raw in page:
                try:
                    row = parse(raw)
                except InvalidPayload as exc:
                    if on_invalid is None:
                        raise
                    outcome = on_invalid(raw, exc)
                    if inspect.isawaitable(outcome):
                        await outcome
                    continue
                yield row

    async def _all(
        self, endpoint: str, list_key: str, model: type[M], what: str, params: Mapping[str, Any]
    ) -> list[M]:
        return [
            row
            async for row in self._rows(
                endpoint, list_key, params, lambda raw: read_document(model, raw, what), None
            )
        ]

    # --- typed reads -----------------------------------------------------------------------

    async def ping(self) -> Company:
        """`GET me`: the company profile; the cheapest proof that the credentials work."""
        body = await self.get_json("me")
        if not isinstance(body, Mapping):
            raise InvalidPayload(["me: the answer is not a JSON object"])
        return read_document(Company, body, "company")

    def suppliers(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Supplier]:
        """Suppliers, deprecated ones included by default (a full sync needs them, §8.7).

        A malformed row raises `InvalidPayload`, or, when `on_invalid` is given, is handed to
        it with the raw row and the listing goes on.
        """
        params: dict[str, Any] = {"IncludeDeprecated": _flag(include_deprecated)}
        if modified_since is not None:
            params["ModifiedSince"] = _since(modified_since)
        return self._rows("supplier", "SupplierList", params, Supplier.from_cin7, on_invalid)

    def purchase_list(
        self,
        updated_since: Since = None,
        *,
        on_invalid: OnInvalid | None = None,
        **filters: str,
    ) -> AsyncIterator[PurchaseListRow]:
        """`purchaseList` rows changed after `updated_since` (strictly), filters as Cin7 names them.

        Filters are single-valued (`Status="COMPLETED"`); use `StockReceivedStatus`, not the
        documented `RestockReceivedStatus`, which Cin7 ignores (§5.2).
        """
        params: dict[str, Any] = dict(filters)
        if updated_since is not None:
            params["UpdatedSince"] = _since(updated_since)
        return self._rows(
            "purchaseList", "PurchaseList", params, PurchaseListRow.from_cin7, on_invalid
        )

    async def purchase(self, id: str, type: str = "Simple Purchase") -> Purchase:
        """One purchase in the normalised shape (see `purchase_json` for the routing)."""
        return Purchase.from_cin7(await self.purchase_json(id, type))

    async def purchase_json(self, id: str, type: str = "Simple Purchase") -> dict[str, Any]:
        """One purchase's raw detail JSON, the call routed by the list's `Type`.

        Simple → `/purchase`; Advanced and Service → `/advanced-purchase`. When `/purchase`
        answers 400 "deprecated … Advanced" (the purchase was converted since it was listed),
        the documented fallback asks `/advanced-purchase`; never the other way round (§8.3).
        The raw document is what the engine stages, even when it turns out to be malformed.
        """
        if type.strip().lower().startswith("simple"):
            try:
                body = await self.get_json("purchase", {"ID": id})
            except RecordRejected as exc:
                if not _is_advanced_refusal(exc):
                    raise
                log.info("cin7 purchase %s is no longer Simple; reading advanced-purchase", id)
                body = await self.get_json("advanced-purchase", {"ID": id})
        else:
            body = await self.get_json("advanced-purchase", {"ID": id})
        if not isinstance(body, Mapping):
            raise InvalidPayload([f"purchase {id}: the answer is not a JSON object"])
        return dict(body)

    async def accounts(self) -> list[Account]:
        """The chart of accounts (`AccountsList`, plural). Read-only: never written."""
        return await self._all("ref/account", "AccountsList", Account, "account", {})

    def products(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Product]:
        """Products (`Limit` is always sent: without it Cin7 repeats the first page, §3)."""
        params: dict[str, Any] = {"IncludeDeprecated": _flag(include_deprecated)}
        if modified_since is not None:
            params["ModifiedSince"] = _since(modified_since)
        return self._rows(
            "product",
            "Products",
            params,
            lambda raw: read_document(Product, raw, "product"),
            on_invalid,
        )

    async def locations(self) -> list[Location]:
        """Locations; bins come both nested and as their own rows with `ParentID` (§5.9)."""
        return [
            row
            async for row in self._rows(
                "ref/location", "LocationList", {}, Location.from_cin7, None
            )
        ]

    async def tax_rules(self) -> list[TaxRule]:
        return await self._all("ref/tax", "TaxRuleList", TaxRule, "tax rule", {})

    async def payment_terms(self) -> list[PaymentTerm]:
        return await self._all(
            "ref/paymentterm", "PaymentTermList", PaymentTerm, "payment term", {}
        )


def _since(value: datetime | str) -> str:
    """A cursor for `UpdatedSince`/`ModifiedSince`: a raw Cin7 string passes through as is."""
    return format_timestamp(value) if isinstance(value, datetime) else value


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _is_advanced_refusal(exc: RecordRejected) -> bool:
    text = exc.message.lower()
    return exc.status == 400 and "deprecated" in text and "advanced" in text
