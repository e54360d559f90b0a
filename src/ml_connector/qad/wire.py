"""The HTTP client the QAD channels send through: httpx, with a lean HTTP/1.1 transport beneath.

A sync pass makes ~25 QAD calls per purchase, so the client's own CPU per call counts. httpx's
default transport goes through httpcore's connection pool and its anyio backend: every read and
write opens a cancel scope, asks sniffio which library runs, and every request walks the pool
with locks and shielded scopes. Here httpx keeps its whole job (requests, responses, content
decoding, cookies, the exception types) and only the transport is our own, built on the same
HTTP/1.1 state machine httpcore uses (h11) and on asyncio's own `Protocol`:

- `_Stream` buffers what the event loop delivers, waits for more with one timer per wait,
  honours the loop's write flow control, and upgrades to TLS with `loop.start_tls`;
- `_Connection` runs one request/answer exchange through h11 and says whether the connection
  may serve the next one (keep-alive);
- `QadHttpTransport` bounds the requests in flight and keeps idle connections per origin;
- `QadHttpClient` is an `httpx.AsyncClient` that reads a response's cookies only when it has a
  `Set-Cookie` header (the stdlib cookie jar otherwise builds a `urllib` request per response
  to find nothing).

Failures surface as httpx's exceptions (`ConnectError`, `ReadTimeout`, `RemoteProtocolError`,
...), which the retry rules rely on (`qad/rest/transport.py`).
"""

# The transport passes each socket call its own timeout: ASYNC109 cannot apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import h11
import httpx

READ_BUFFER_LIMIT = 1 << 20
"""Bytes buffered from the server before the socket is paused until the client reads them."""
READ_SIZE = 64 * 1024


class _Stream(asyncio.Protocol):
    """One connection's bytes: what the event loop delivers, read and written with timeouts."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False
        self._lost: Exception | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[bool] | None = None

    # ---- called by the event loop -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > READ_BUFFER_LIMIT and self._transport is not None:
            self._transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # close our side too: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        self._writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    async def _wait(self, timeout: float | None) -> bool:
        """Wait until the loop calls back (data, EOF, loss, writable); False on timeout."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            return bool(await waiter)
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    # ---- called by the transport --------------------------------------------------------------

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while not self._buffer and not self._eof:
            if not await self._wait(timeout):
                raise httpx.ReadTimeout(f"no data from the server within {timeout} s")
        if self._buffer:
            data = bytes(self._buffer[:max_bytes])
            del self._buffer[:max_bytes]
            if self._reading_paused and len(self._buffer) <= READ_BUFFER_LIMIT // 2:
                self._reading_paused = False
                if self._transport is not None:
                    self._transport.resume_reading()
            return data
        if self._lost is not None:
            raise httpx.ReadError(str(self._lost) or type(self._lost).__name__)
        return b""  # the server closed the connection: h11 says what that means

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
        assert isinstance(upgraded, asyncio.Transport)
        self._transport = upgraded

    @property
    def stale(self) -> bool:
        """An idle connection with something to read, or closed: not to be used again."""
        return bool(self._buffer) or self._eof


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


async def _connect(
    host: str, port: int, tls: ssl.SSLContext | None, timeout: float | None
) -> _Stream:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, stream = await loop.create_connection(_Stream, host, port)
    except TimeoutError:
        raise httpx.ConnectTimeout(f"no connection to {host}:{port} within {timeout} s") from None
    except OSError as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    if tls is not None:
        await stream.start_tls(tls, host, timeout)
    return stream


class _Connection:
    """A socket and its HTTP/1.1 state (h11), kept between requests while both allow it."""

    def __init__(self, stream: _Stream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    async def exchange(
        self, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        """Send `request` and read its whole answer."""
        body = await request.aread()
        h = self.h11
        data = h.send(
            h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
        )
        if body:
            data += h.send(h11.Data(data=body))
        data += h.send(h11.EndOfMessage())
        await self.stream.write(data, timeouts.get("write"))
        read = timeouts.get("read")
        head: h11.Response | None = None
        chunks: list[bytes] = []
        while True:
            event = h.next_event()
            if event is h11.NEED_DATA:
                h.receive_data(await self.stream.read(READ_SIZE, read))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError("the server closed the connection mid-answer")
            # an InformationalResponse (1xx) is passed over: the final answer follows
        assert head is not None
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=httpx.ByteStream(b"".join(chunks)),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def reusable(self) -> bool:
        """Ready for the next request (both sides done, keep-alive): then reset for it."""
        h = self.h11
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
            return True
        return False


class QadHttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 to QAD: a pool of keep-alive connections, h11 for the protocol, asyncio sockets.

    At most `limits.max_connections` requests are in flight (waiting longer than the pool
    timeout is `httpx.PoolTimeout`); up to `limits.max_keepalive_connections` idle connections
    are kept for `limits.keepalive_expiry` seconds. A connection the server closed while it was
    idle is dropped before use; one interrupted mid-request (an error, a cancellation) is
    closed, never reused. Answers are read whole: QAD's are JSON documents. `connections`
    counts the connections opened.
    """

    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._tls: ssl.SSLContext | None = None
        self._size = limits.max_connections or 100
        self._in_flight: asyncio.Semaphore | None = None
        keep = limits.max_keepalive_connections
        self._keep = self._size if keep is None else keep
        self._expiry = 5.0 if limits.keepalive_expiry is None else limits.keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self.connections = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"cannot send to a {url.scheme!r} URL")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self._size)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._in_flight.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection slot became free in time") from None
        try:
            origin = (
                url.raw_scheme,
                url.raw_host,
                url.port or (443 if url.scheme == "https" else 80),
            )
            connection = self._idle_connection(origin) or await self._open(origin, timeouts)
            try:
                response = await connection.exchange(request, timeouts)
            except h11.RemoteProtocolError as exc:
                connection.stream.close()
                raise httpx.RemoteProtocolError(str(exc)) from exc
            except h11.LocalProtocolError as exc:
                connection.stream.close()
                raise httpx.LocalProtocolError(str(exc)) from exc
            except BaseException:
                connection.stream.close()
                raise
            self._release(origin, connection)
            return response
        finally:
            self._in_flight.release()

    def _idle_connection(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.stream.stale or now - connection.idle_since > self._expiry:
                connection.stream.close()
                continue
            return connection
        return None

    async def _open(
        self, origin: tuple[bytes, bytes, int], timeouts: dict[str, float | None]
    ) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == b"https":
            if self._tls is None:
                self._tls = httpx.create_ssl_context(verify=self._verify, trust_env=False)
            tls = self._tls
        stream = await _connect(host.decode("ascii"), port, tls, timeouts.get("connect"))
        self.connections += 1
        return _Connection(stream)

    def _release(self, origin: tuple[bytes, bytes, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if connection.reusable() and len(idle) < self._keep:
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


class QadHttpClient(httpx.AsyncClient):
    """`httpx.AsyncClient` with `_Cookies` as its jar (cookies work as usual when set)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _Cookies(kwargs.get("cookies"))

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._jar = _Cookies(cookies)


def qad_http_client(
    base_url: str = "",
    *,
    timeout: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> QadHttpClient:
    """The client a QAD channel sends with; `transport` (tests) replaces the socket transport.

    Redirects are never followed (one could lead off the checked host) and the environment's
    proxy and certificate settings are not read (`trust_env=False`).
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return QadHttpClient(
        base_url=base_url,
        transport=transport or QadHttpTransport(limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
