"""The HTTP client both remotes are called through: httpx, with a lean HTTP/1.1 transport beneath.

A sync pass makes ~25 QAD calls and a Cin7 call per purchase, so the client's own CPU per call
counts. httpx's default transport goes through httpcore's connection pool and its anyio backend:
every read and write opens a cancel scope, asks sniffio which library runs, and every request
walks the pool with locks and shielded scopes. Here the transport is our own, built on
`ml_connector.http11` (requests written there, answers parsed by llhttp through httptools)
and on asyncio's own `BufferedProtocol`:

- `Stream` has the event loop read into a buffer it keeps and parses an answer as its bytes
  arrive, waking the request once, when the answer is whole; it bounds waits with one timer
  kept armed per connection, honours the loop's write flow control, and upgrades to TLS with
  `loop.start_tls`;
- `_Connection` runs one request/answer exchange and says whether the connection
  may serve the next one (keep-alive);
- `HttpTransport` bounds the requests in flight and keeps idle connections per origin;
- `HttpClient` is an `httpx.AsyncClient` with one more entry point, `call`, which QAD's REST
  send path, QXtend's QDoc posts and the Cin7 client's reads use: it hands bytes to the
  transport and reads an `Answer` back, building no `httpx.Request` or `httpx.Response` (their
  headers, URL and stream machinery were about a third of the client's CPU per call). QAD's
  token request, and `call` itself on another transport (`httpx.MockTransport` in tests), go
  through httpx as usual, which keeps requests, responses, content decoding and cookies. Its
  jar reads a response's cookies only when it has a `Set-Cookie` header (the stdlib cookie jar
  otherwise builds a `urllib` request per response to find nothing).

Failures surface as httpx's exceptions (`ConnectError`, `ReadTimeout`, `RemoteProtocolError`,
...) on both entry points, which the retry rules rely on (`qad/rest/transport.py`,
`cin7/client.py`).
"""

# The transport passes each socket call its own timeout: ASYNC109 cannot apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import email.message
import functools
import re
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx

from ml_connector.http11 import AnswerReader, Received, header_block, request_head
from ml_connector.json_codec import dumps_compact, loads

READ_BUFFER_LIMIT = 1 << 20
"""Bytes kept from the server while no answer is awaited before the socket is paused."""
READ_SIZE = 64 * 1024
"""The most bytes the event loop reads from a socket at once, into the connection's buffer."""
HEAD_CACHE_SIZE = 16

Origin = tuple[bytes, bytes, int]
"""Scheme, host and port: the connections kept idle for one origin serve only it."""
Header = tuple[bytes, bytes]
"""A header's name and value, as they go on the wire."""
Timeouts = dict[str, float | None]
"""httpx's per-request timeouts (`httpx.Timeout.as_dict()`): connect, read, write, pool."""


def origin_of(url: httpx.URL) -> Origin:
    """The origin of an absolute http(s) URL; `httpx.UnsupportedProtocol` for other schemes."""
    scheme = url.raw_scheme
    if scheme == b"http":
        return scheme, url.raw_host, url.port or 80
    if scheme == b"https":
        return scheme, url.raw_host, url.port or 443
    raise httpx.UnsupportedProtocol(f"cannot send to a {url.scheme!r} URL")


def behind_proxy(url: str) -> bool:
    """Whether the environment routes `url` through a proxy (`HTTP_PROXY`, `HTTPS_PROXY`,
    `ALL_PROXY`, not bypassed by `NO_PROXY`), as httpx reads it with `trust_env`.

    The lean transport speaks to the origin only; a client for such a URL is given httpx's own
    transport instead, which sends through the proxy and reads the environment's certificate
    settings (`SSL_CERT_FILE`).
    """
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


class Target:
    """An absolute http(s) URL as `HttpClient.call` sends to it: its origin, its `Host` value
    and its request target (path and query) as they go on the wire.

    Built from an `httpx.URL` (`Target(url)`), or, for a URL that differs from one only by its
    query, from the target without it (`with_query`), parsing no URL: httpx parses and checks
    every character of a URL, which cost as much as the rest of a call. Such a target's URL
    (for a client that sends through httpx, behind a proxy) is parsed when first asked for.
    """

    __slots__ = ("_bare", "_build", "_url", "host", "origin", "path")

    def __init__(self, url: httpx.URL) -> None:
        scheme = url.raw_scheme
        self.origin: Origin | None = origin_of(url) if scheme in (b"http", b"https") else None
        self.host = url.netloc
        self.path = url.raw_path
        self._url: httpx.URL | None = url
        self._build: Callable[[], httpx.URL] | None = None
        self._bare: bool | None = None

    @property
    def bare(self) -> bool:
        """Whether `with_query` may extend this target: it has no query nor fragment, not even
        an empty one (`?` or `#` in the URL)."""
        if self._bare is None:
            text = str(self.url)
            self._bare = "?" not in text and "#" not in text
        return self._bare

    def with_query(self, query: str, url: Callable[[], httpx.URL]) -> Target:
        """This target (`bare`) with `query` as `query_string` encodes it (httpx keeps such a
        query as it is); `url` parses the URL it stands for, should it be asked for."""
        target = Target.__new__(Target)
        target.origin = self.origin
        target.host = self.host
        target.path = b"%b?%b" % (self.path, query.encode("ascii"))
        target._url = None
        target._build = url
        target._bare = False
        return target

    @property
    def url(self) -> httpx.URL:
        """The URL itself."""
        if self._url is None:
            assert self._build is not None
            self._url = self._build()
        return self._url


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters `urllib.parse.quote_plus` leaves as they are."""


QUOTED_CACHE_SIZE = 256
"""Names and values escaped by `quote_plus` that are remembered: the same few recur (QAD's view
URIs)."""


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """`urllib.parse.urlencode(pairs)` for string pairs, as httpx encodes `params=`: names and
    values that need no escaping (most of them) are written without `quote_plus`, and those
    that do are escaped once and remembered."""
    parts = []
    for name, value in pairs:
        if not (isinstance(name, str) and isinstance(value, str)):
            return urlencode(pairs)
        parts.append(f"{_quoted(name)}={_quoted(value)}")
    return "&".join(parts)


def _quoted(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else _escaped(text)


_escaped = functools.lru_cache(maxsize=QUOTED_CACHE_SIZE)(quote_plus)


def json_body(value: Any) -> bytes:
    """`value` as httpx encodes `json=` (since 0.28): compact, UTF-8, no NaN (`dumps_compact`)."""
    return dumps_compact(value)


class Stream(asyncio.BufferedProtocol):
    """One connection's bytes: each answer parsed as the event loop delivers it, requests
    written with the loop's write flow control, every wait bounded by one timer kept armed.

    The loop reads into a buffer the stream keeps (`get_buffer`, `buffer_updated`): no bytes
    object per read. While an answer is awaited (`expect`, `answered`) what arrives goes
    straight to its `AnswerReader`, and the waiting request is woken once, when the answer is
    whole or has failed. What arrives while no answer is awaited is kept (`stale`), reading
    paused past `READ_BUFFER_LIMIT`.

    A wait with a timeout ends when no byte came for that long: its deadline moves with each
    piece of an answer that leaves it unfinished. One timer per stream serves the deadlines: it
    stays armed at the earliest deadline once set, and when it fires with the wait's deadline
    moved on, or with no wait at all, it re-arms at the newer one or lets go (asyncio's timer
    handle per wait, pushed and cancelled on the loop's heap, cost as much as the rest of the
    wait).
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._view: memoryview | None = None
        self._stash = bytearray()
        self._reader: AnswerReader | None = None
        self._failure: Exception | None = None
        self._eof = False
        self._lost: Exception | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[bool] | None = None
        self._timeout: float | None = None
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    # ---- called by the event loop -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though uvloop's do not subclass asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        view = self._view
        if view is None:
            view = self._view = memoryview(bytearray(READ_SIZE))
        return view

    def buffer_updated(self, nbytes: int) -> None:
        assert self._view is not None
        data = self._view[:nbytes]
        reader = self._reader
        if reader is None:
            self._keep(data)
        elif self._failure is not None:
            return  # the answer failed: the connection is closed, what follows is moot
        elif reader.done:
            reader.feed(data)  # bytes after the answer: the connection will not be reused
        else:
            self._feed(reader, data)
            if reader.done:
                self._wake()
            elif self._deadline is not None and self._timeout is not None:
                self._deadline = self._loop.time() + self._timeout  # data came: time anew

    def eof_received(self) -> bool:
        self._eof = True
        self._ended(None)
        self._wake()
        return False  # close our side too: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        self._writing_paused = False
        self._ended(exc)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake()

    # ---- the answer awaited -------------------------------------------------------------------

    def _keep(self, data: memoryview | bytes) -> None:
        self._stash += data
        if len(self._stash) > READ_BUFFER_LIMIT and self._transport is not None:
            self._transport.pause_reading()
            self._reading_paused = True

    def _feed(self, reader: AnswerReader, data: memoryview | bytes) -> None:
        try:
            reader.feed(data)
        except httpx.RemoteProtocolError as exc:
            self._failure = exc
            self._wake()

    def _ended(self, exc: Exception | None) -> None:
        """The connection closed (`exc` when it broke): the end of, or a fault in, the answer."""
        reader = self._reader
        if reader is None or reader.done or self._failure is not None:
            return
        if exc is not None:
            self._failure = httpx.ReadError(str(exc) or type(exc).__name__)
            return
        try:
            reader.eof()  # the body without length ends here, anything else is cut short
        except httpx.RemoteProtocolError as failure:
            self._failure = failure

    def expect(self, reader: AnswerReader) -> None:
        """Parse what arrives from now on with `reader` (what is kept from before, first)."""
        self._reader = reader
        self._failure = None
        if self._stash:
            data = bytes(self._stash)
            self._stash.clear()
            if self._reading_paused:
                self._reading_paused = False
                if self._transport is not None:
                    self._transport.resume_reading()
            self._feed(reader, data)
        if self._eof:
            self._ended(self._lost)

    async def answered(self, timeout: float | None = None) -> None:
        """Wait until the reader given to `expect` holds a whole answer; its fault if not."""
        reader = self._reader
        assert reader is not None
        try:
            while not reader.done and self._failure is None:
                if not await self._wait(timeout):
                    raise httpx.ReadTimeout(f"no data from the server within {timeout} s")
            if self._failure is not None:
                raise self._failure
        finally:
            self._reader = None
            self._failure = None

    # ---- waits --------------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    async def _wait(self, timeout: float | None) -> bool:
        """Wait until the loop calls back (data, EOF, loss, writable); False on timeout."""
        waiter = self._waiter = self._loop.create_future()
        if timeout is not None:
            self._timeout = timeout
            deadline = self._deadline = self._loop.time() + timeout
            if self._timer is None or self._timer_at > deadline:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer_at = deadline
                self._timer = self._loop.call_at(deadline, self._expire)
        try:
            return bool(await waiter)
        finally:
            self._waiter = None
            self._deadline = None

    def _expire(self) -> None:
        """The timer is due: the wait whose deadline has come ends with False, a wait whose
        deadline moved on is timed again."""
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if deadline <= self._timer_at:
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(False)
            return
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._expire)

    # ---- called by the connection -------------------------------------------------------------

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        transport = self._transport
        if transport is None or transport.is_closing() or self._lost is not None:
            raise httpx.WriteError("the connection is closed")
        transport.write(buffer)
        while self._writing_paused:
            if not await self._wait(timeout):
                raise httpx.WriteTimeout(f"the server took no data within {timeout} s")
        if self._lost is not None:
            raise httpx.WriteError(str(self._lost) or type(self._lost).__name__)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> None:
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                upgraded = await loop.start_tls(
                    self._transport, self, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpx.ConnectTimeout(f"TLS handshake took over {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        if upgraded is None:  # the peer closed during the handshake
            raise httpx.ConnectError("the connection closed during the TLS handshake")
        self._transport = upgraded

    @property
    def stale(self) -> bool:
        """An idle connection with something to read, or closed: not to be used again."""
        return bool(self._stash) or self._eof


async def _connect(
    host: str, port: int, tls: ssl.SSLContext | None, timeout: float | None
) -> Stream:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, stream = await loop.create_connection(Stream, host, port)
    except TimeoutError:
        raise httpx.ConnectTimeout(f"no connection to {host}:{port} within {timeout} s") from None
    except OSError as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    if tls is not None:
        await stream.start_tls(tls, host, timeout)
    return stream


class _Connection:
    """A socket kept between requests while both sides allow it (`http11` reads the answers)."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.idle_since = 0.0
        self.keep_alive = False
        self._reader = AnswerReader()
        self._used = False

    async def exchange(self, head: bytes, body: bytes, timeouts: Timeouts) -> Received:
        """Send one request (its head and body) and read its whole answer.

        A connection is used again only after an answer that kept it alive: its reader then
        reads the next one.
        """
        self.keep_alive = False
        stream = self.stream
        reader = self._reader
        if self._used:
            reader.restart()
        self._used = True
        stream.expect(reader)
        await stream.write(head + body if body else head, timeouts.get("write"))
        await stream.answered(timeouts.get("read"))
        answer = reader.received()
        self.keep_alive = reader.keep_alive and not stream.stale
        return answer


class Slots:
    """The bound on requests in flight: `free` slots, and the requests waiting for one.

    A request takes a free slot with `take_free` (no await); with none free it `wait`s, first
    come, first served, until a request in flight `release`s its slot to it. A count and a queue
    rather than an `asyncio.Semaphore`, whose `locked()` and `acquire()` cost a generator and a
    coroutine per request even with slots free.
    """

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    def take_free(self) -> bool:
        """Take a free slot at once, if there is one (then True)."""
        if self.free:
            self.free -= 1
            return True
        return False

    async def wait(self, timeout: float | None) -> None:
        """Wait for a slot handed over; `httpx.PoolTimeout` past `timeout`. A wait that ends
        otherwise (timed out, cancelled), even as a slot reaches it, takes none and loses none.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over as the wait was cancelled: to the next one
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):  # unless a hand-over passed it by
                    self.waiting.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout("no connection slot became free in time") from None
            raise

    def release(self) -> None:
        """A request's slot goes to the first one waiting, else back to `free`."""
        waiting = self.waiting
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class HttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1: a pool of keep-alive connections per origin over asyncio sockets (`http11`).

    At most `limits.max_connections` requests are in flight (waiting longer than the pool
    timeout is `httpx.PoolTimeout`); up to `limits.max_keepalive_connections` idle connections
    are kept for `limits.keepalive_expiry` seconds. A connection the server closed while it was
    idle is dropped before use; one interrupted mid-request (an error, a cancellation) is
    closed, never reused. Answers are read whole: both remotes answer with JSON documents.
    `connections` counts the connections opened.
    """

    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._tls: ssl.SSLContext | None = None
        self._size = limits.max_connections or 100
        self._slots = Slots(self._size)
        keep = limits.max_keepalive_connections
        self._keep = self._size if keep is None else keep
        self._expiry = 5.0 if limits.keepalive_expiry is None else limits.keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self.connections = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = origin_of(request.url)
        body = await request.aread()
        # The body is sent whole: its length replaces any framing httpx chose for a stream.
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.lower() not in (b"content-length", b"transfer-encoding")
        ]
        if body or request.method in _SIZED_METHODS:
            headers.append((b"Content-Length", b"%d" % len(body)))
        head = request_head(request.method, request.url.raw_path, header_block(headers))
        answer = await self.exchange(origin, head, body, request.extensions.get("timeout", {}))
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )

    async def exchange(
        self, origin: Origin, head: bytes, body: bytes, timeouts: Timeouts
    ) -> Received:
        """A request (its `head` from `http11.request_head`, and `body`) to `origin`, and its
        whole answer.

        Sent on an idle connection or a new one; errors are httpx's exception types.
        """
        if not self._slots.take_free():  # a free slot is taken at once, with no timer
            await self._slots.wait(timeouts.get("pool"))
        try:
            connection = self._idle_connection(origin) or await self._open(origin, timeouts)
            try:
                answer = await connection.exchange(head, body, timeouts)
            except BaseException:
                connection.stream.close()
                raise
            self._release(origin, connection)
            return answer
        finally:
            self._slots.release()

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.stream.stale or now - connection.idle_since > self._expiry:
                connection.stream.close()
                continue
            return connection
        return None

    async def _open(self, origin: Origin, timeouts: Timeouts) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == b"https":
            if self._tls is None:
                self._tls = httpx.create_ssl_context(verify=self._verify, trust_env=False)
            tls = self._tls
        stream = await _connect(host.decode("ascii"), port, tls, timeouts.get("connect"))
        self.connections += 1
        return _Connection(stream)

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if connection.keep_alive and len(idle) < self._keep:
            connection.idle_since = time.monotonic()
            idle.append(connection)
        else:
            connection.stream.close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.stream.close()
        self._idle.clear()


class _Cookies(httpx.Cookies):
    """A cookie jar that skips the stdlib's parsing when a response sets no cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class Answer:
    """A whole HTTP answer: status, header pairs (names in lower case) and the decoded body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: list[Header], content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def __repr__(self) -> str:
        return f"<Answer {self.status_code} {len(self.content)} bytes>"

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        wanted = name.lower().encode("ascii")
        for key, value in self.headers:
            if key == wanted:
                return value.decode("latin-1")
        return None

    def json(self) -> Any:
        """The body parsed as JSON (`ValueError` when it is not), as `httpx.Response.json`
        (`json.loads`, through `json_codec.loads`)."""
        return loads(self.content)

    @property
    def text(self) -> str:
        """The body decoded as `httpx.Response.text` decodes it: the Content-Type's charset when
        Python knows it, else UTF-8; undecodable bytes are replaced."""
        encoding = "utf-8"
        content_type = self.header("content-type")
        if content_type is not None:
            charset = _charset(content_type)
            if charset is not None:
                encoding = charset
        return self.content.decode(encoding, errors="replace")


@functools.lru_cache(maxsize=64)
def _charset(content_type: str) -> str | None:
    """The `charset` parameter of a Content-Type (as httpx reads it), if Python has that codec.

    Remembered per Content-Type: a remote answers with one or two, and parsing one with
    `email.message` costs more than decoding a typical answer.
    """
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_content_charset(failobj=None)
    if charset is None:
        return None
    try:
        codecs.lookup(charset)
    except LookupError:
        return None
    return charset


class AnswerHeaders(Mapping[str, str]):
    """An answer's header pairs read as `httpx.Headers` reads them (any case; several values of
    one name joined with ", "), built only when a header is first read: most answers are
    classified without reading one."""

    __slots__ = ("_headers", "_pairs")

    def __init__(self, pairs: list[Header]) -> None:
        self._pairs = pairs
        self._headers: httpx.Headers | None = None

    def _built(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(self._pairs)
        return self._headers

    def __getitem__(self, name: str) -> str:
        return self._built()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


class HttpClient(httpx.AsyncClient):
    """`httpx.AsyncClient` with `call`, a lean entry point for the remotes' API requests.

    `call` hands a request to `HttpTransport.exchange` as bytes: no `httpx.Request` or
    `httpx.Response` is built. It sends what httpx would send — Host, the client's default
    headers (Accept, Accept-Encoding, Connection, User-Agent), the caller's headers over them,
    and for a JSON body the body encoded as httpx encodes it with Content-Length and
    Content-Type — and a compressed answer is decoded by httpx. It neither sends nor stores
    cookies, nor applies the client's `auth`: callers pass their credentials as headers (QAD's
    bearer token, Cin7's key headers). With another transport (`httpx.MockTransport` in tests)
    `call` goes through httpx's `build_request` and `send`, cookies included.

    The jar (`_Cookies`) reads a response's cookies only when it has a `Set-Cookie` header.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _Cookies(kwargs.get("cookies"))
        transport = kwargs.get("transport")
        self._lean = transport if isinstance(transport, HttpTransport) else None
        self._heads: dict[tuple[bytes, tuple[Header, ...], bool], bytes] = {}
        self._timeout_of: httpx.Timeout | None = None
        self._timeout_dict: Timeouts = {}
        self._closed = False  # `is_closed`, read per `call` without httpx's property

    async def aclose(self) -> None:
        self._closed = True  # as httpx marks itself closed: before closing its transports
        await super().aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._closed = True
        await super().__aexit__(exc_type, exc_value, traceback)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._jar = _Cookies(cookies)

    async def call(
        self,
        method: str,
        url: httpx.URL | Target,
        headers: tuple[Header, ...] = (),
        *,
        json: Any = None,
        content: bytes | None = None,
    ) -> Answer:
        """Send `method` to the absolute `url` with `headers`, and `json` or `content` as the
        body (as httpx's `json=` and `content=`).

        The answer is read whole. Failures are httpx's exceptions, as from `send`.
        """
        if self._lean is None:
            if isinstance(url, Target):
                url = url.url
            built = self.build_request(method, url, headers=headers, json=json, content=content)
            response = await self.send(built)
            pairs = [(key.lower(), value) for key, value in response.headers.raw]
            return Answer(response.status_code, pairs, response.content)
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        target = url if isinstance(url, Target) else Target(url)
        origin = target.origin or origin_of(target.url)  # UnsupportedProtocol, as from httpx
        block = self._template(target.host, headers, json=json is not None)
        body = json_body(json) if json is not None else content or b""
        if content is not None or json is not None or method in _SIZED_METHODS:
            block += b"Content-Length: %d\r\n" % len(body)
        head = request_head(method, target.path, block)
        answer = await self._lean.exchange(origin, head, body, self._timeouts())
        received = answer.content
        if answer.encoded:
            received = _decoded(answer.headers, received)
        return Answer(answer.status_code, answer.lowered, received)

    def _timeouts(self) -> Timeouts:
        """The client's timeouts as a dict, made again only when `timeout` is set anew."""
        timeout = self.timeout
        if timeout is not self._timeout_of:
            self._timeout_of = timeout
            self._timeout_dict = timeout.as_dict()
        return self._timeout_dict

    def _template(self, host: bytes, headers: tuple[Header, ...], *, json: bool = False) -> bytes:
        """The header lines Host, the client's defaults not overridden, `headers` (and
        Content-Type for `json`): checked once per set (`http11.header_block`), then reused.
        """
        key = (host, headers, json)
        head = self._heads.get(key)
        if head is None:
            given = {name.lower() for name, _ in headers}
            defaults = [(k, v) for k, v in self.headers.raw if k.lower() not in given]
            pairs = [(b"Host", host), *defaults, *headers]
            if json and b"content-type" not in given:
                pairs.append((b"Content-Type", b"application/json"))
            head = header_block(pairs)
            if len(self._heads) >= HEAD_CACHE_SIZE:
                self._heads.clear()
            self._heads[key] = head
        return head


_SIZED_METHODS = ("POST", "PUT", "PATCH")
"""Methods httpx sends a Content-Length with even when there is no body."""


def _decoded(headers: list[Header], content: bytes) -> bytes:
    """A compressed body decoded as httpx decodes it (`httpx.DecodingError` when it cannot)."""
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(content)).read()
