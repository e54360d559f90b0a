"""The HTTP client the QAD channels send through: httpx, over sockets driven by asyncio itself.

A sync pass makes ~27 QAD calls per purchase, so the client's own CPU per call counts. httpx's
default transport reaches the socket through httpcore's anyio backend: every read and write
opens a cancel scope, asks sniffio which library runs, and polls the socket to see whether an
idle connection is still usable. Here httpcore keeps its whole job (the connection pool,
HTTP/1.1 through h11, keep-alive, TLS through `ssl`) and only its network backend is swapped
for one written on asyncio's own `Protocol`, which the event loop feeds directly:

- `AsyncioBackend` opens TCP (and Unix) connections with `loop.create_connection`;
- `_Stream` buffers what the loop delivers, waits for more with one timer per wait, honours
  the loop's write flow control, and upgrades to TLS with `loop.start_tls`;
- `QadHttpTransport` is httpx's own `AsyncHTTPTransport` (exception mapping, response streams)
  on a pool with that backend;
- `QadHttpClient` is an `httpx.AsyncClient` that reads a response's cookies only when it has a
  `Set-Cookie` header (the stdlib cookie jar otherwise builds a `urllib` request per response
  to find nothing).

Failures surface as the same httpx exceptions as before (`ConnectError`, `ReadTimeout`, ...),
which the transport's retry rules rely on (`qad/rest/transport.py`).
"""

# httpcore's network interface passes each call its timeout: ASYNC109 cannot apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

READ_BUFFER_LIMIT = 1 << 20
"""Bytes buffered from the server before the socket is paused until the client reads them."""

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Stream(asyncio.Protocol, httpcore.AsyncNetworkStream):
    """One connection: an asyncio protocol that httpcore reads and writes as a network stream."""

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

    # ---- called by httpcore -------------------------------------------------------------------

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while not self._buffer and not self._eof:
            if not await self._wait(timeout):
                raise httpcore.ReadTimeout(f"no data from the server within {timeout} s")
        if self._buffer:
            data = bytes(self._buffer[:max_bytes])
            del self._buffer[:max_bytes]
            if self._reading_paused and len(self._buffer) <= READ_BUFFER_LIMIT // 2:
                self._reading_paused = False
                if self._transport is not None:
                    self._transport.resume_reading()
            return data
        if self._lost is not None:
            raise httpcore.ReadError(str(self._lost) or type(self._lost).__name__)
        return b""  # the server closed the connection: h11 decides what that means

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        transport = self._transport
        if transport is None or transport.is_closing() or self._lost is not None:
            raise httpcore.WriteError("the connection is closed")
        transport.write(buffer)
        while self._writing_paused:
            if not await self._wait(timeout):
                raise httpcore.WriteTimeout(f"the server took no data within {timeout} s")
        if self._lost is not None:
            raise httpcore.WriteError(str(self._lost) or type(self._lost).__name__)

    async def aclose(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                upgraded = await loop.start_tls(
                    self._transport, self, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout(f"TLS handshake took over {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if upgraded is None:  # the peer closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(upgraded, asyncio.Transport)
        self._transport = upgraded
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle connection with something to read, or closed: httpcore drops it.
            return bool(self._buffer) or self._eof
        if self._transport is None:
            return None
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's event loop (see module docstring).

    `connections` counts the connections it opened.
    """

    def __init__(self) -> None:
        self.connections = 0

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        return await self._connect(
            loop.create_connection(_Stream, host, port, local_addr=local),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await self._connect(
            loop.create_unix_connection(_Stream, path), timeout, socket_options
        )

    async def _connect(
        self,
        connecting: Any,
        timeout: float | None,
        socket_options: Iterable[SocketOption] | None,
    ) -> _Stream:
        try:
            async with asyncio.timeout(timeout):
                transport, stream = await connecting
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        self.connections += 1
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            if isinstance(sock, socket.socket):
                sock.setsockopt(*option)
        assert isinstance(stream, _Stream)
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class QadHttpTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport on a connection pool that uses `AsyncioBackend`.

    Only the pool is built here; requests, responses and the mapping of httpcore's errors to
    httpx's are httpx's own (`httpx.AsyncHTTPTransport`).
    """

    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> None:
        self.backend = AsyncioBackend()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self.backend,
        )


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
