"""`http11` against h11, the HTTP/1.1 implementation it replaced in the lean transport: the same
request bytes, the same refusals, and the same reading of answers however the bytes arrive."""

from __future__ import annotations

import asyncio
import itertools

import h11
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_connector import wire
from ml_connector.http11 import AnswerReader, Received, header_block, request_head

pytestmark = pytest.mark.unit

Header = tuple[bytes, bytes]

token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~",
    min_size=1,
    max_size=12,
)
value = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20).map(
    lambda text: text
) | st.just("a b\tc")
target = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


def h11_bytes(method: str, path: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    conn = h11.Connection(h11.CLIENT)
    data = conn.send(h11.Request(method=method, target=path, headers=headers))
    if body:
        data += conn.send(h11.Data(data=body))
    return data + conn.send(h11.EndOfMessage())


@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=target,
    names=st.lists(token, max_size=5),
    values=st.lists(value, min_size=5, max_size=5),
    body=st.binary(max_size=40),
)
@settings(max_examples=300)
def test_requests_are_the_bytes_h11_writes(
    method: str, path: str, names: list[str], values: list[str], body: bytes
) -> None:
    headers = [(b"Host", b"qad.example:8443")]
    headers += [(n.encode(), v.encode()) for n, v in zip(names, values, strict=False)]
    headers = [h for h in headers if h[0].lower() not in (b"content-length", b"transfer-encoding")]
    headers.append((b"Content-Length", str(len(body)).encode()))
    ours = request_head(method, path.encode(), header_block(headers)) + body
    assert ours == h11_bytes(method, path.encode(), headers, body)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"Bad Name", b"x"),
        (b"X-Split", b"one\r\nInjected: yes"),
        (b"X-Nul", b"a\x00b"),
        (b"X-Padded", b" padded "),
        (b"", b"x"),
        (b"Content-Length", b"12, 13"),
    ],
)
def test_headers_h11_refuses_are_refused(name: bytes, value: bytes) -> None:
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target=b"/", headers=[(b"Host", b"h"), (name, value)])
    with pytest.raises(httpx.LocalProtocolError):
        header_block([(b"Host", b"h"), (name, value)])


@pytest.mark.parametrize("bad", [b"/a b", b"/a\r\nX: y", b""])
def test_targets_and_methods_that_would_break_the_request_line_are_refused(bad: bytes) -> None:
    with pytest.raises(httpx.LocalProtocolError):
        request_head("GET", bad, b"")
    with pytest.raises(httpx.LocalProtocolError):
        request_head("G ET", b"/", b"")


def test_a_streamed_body_framing_is_never_written() -> None:
    with pytest.raises(httpx.LocalProtocolError):
        header_block([(b"Transfer-Encoding", b"chunked")])


# ---- answers ---------------------------------------------------------------------------------


def answers() -> st.SearchStrategy[bytes]:
    status = st.sampled_from([200, 201, 400, 404, 500, 204])
    coding = st.tuples(
        st.sampled_from(["Content-Encoding", "content-encoding"]),
        st.sampled_from(["identity", "IDENTITY", "gzip"]),
    )
    extra = st.lists(st.tuples(token, value) | coding, max_size=4)
    body = st.binary(max_size=300)
    framing = st.sampled_from(["length", "chunked", "close"])
    informational = st.booleans()
    connection = st.sampled_from([None, "close", "keep-alive"])

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        code, pairs, content = draw(status), draw(extra), draw(body)
        how, info, conn = draw(framing), draw(informational), draw(connection)
        if code == 204:
            content, how = b"", "length"
        head = b"HTTP/1.1 100 Continue\r\n\r\n" if info else b""
        head += b"HTTP/1.1 %d Some Reason\r\n" % code
        for name, val in pairs:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            head += b"%s: %s\r\n" % (name.encode(), val.encode())
        if conn:
            head += b"Connection: %s\r\n" % conn.encode()
        if how == "length":
            if code != 204:
                head += b"Content-Length: %d\r\n" % len(content)
            return head + b"\r\n" + content
        if how == "chunked":
            sizes = draw(st.lists(st.integers(1, 50), max_size=8))
            chunks, rest = [], content
            for size in sizes:
                if rest:
                    chunks.append(rest[:size])
                    rest = rest[size:]
            if rest:
                chunks.append(rest)
            encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
            return head + b"Transfer-Encoding: chunked\r\n\r\n" + encoded + b"0\r\n\r\n"
        return head + b"\r\n" + content  # the body runs until the server closes

    return build()


def read_with_h11(
    raw: bytes, cuts: list[int]
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target=b"/", headers=[(b"Host", b"h")]))
    conn.send(h11.EndOfMessage())
    pieces = [*split(raw, cuts), b""]  # b"": the server closes after the answer
    head: h11.Response | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(pieces.pop(0))
        elif isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            break
    assert head is not None
    closed = not pieces
    keep = conn.their_state is h11.DONE and conn.our_state is h11.DONE and not closed
    return head.status_code, list(head.headers.raw_items()), body, keep


def read_with_ours(raw: bytes, cuts: list[int]) -> tuple[Received, bool]:
    reader = AnswerReader()
    for piece in split(raw, cuts):
        reader.feed(piece)
        if reader.done:
            break
    if not reader.done:
        reader.eof()
    answer = reader.received()
    return answer, reader.keep_alive


def split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    return [raw[a:b] for a, b in itertools.pairwise(points) if b > a]


@given(raw=answers(), cuts=st.lists(st.integers(0, 2000), max_size=6))
@settings(max_examples=400)
def test_answers_read_as_h11_reads_them_however_they_arrive(raw: bytes, cuts: list[int]) -> None:
    status, headers, body, keep = read_with_h11(raw, cuts)
    answer, keep_alive = read_with_ours(raw, cuts)
    assert (answer.status_code, answer.headers, answer.content) == (status, headers, body)
    assert keep_alive == keep
    assert answer.lowered == [(name.lower(), value) for name, value in headers]
    assert answer.encoded == any(
        name.lower() == b"content-encoding" and value.lower() != b"identity"
        for name, value in headers
    )


@given(raws=st.lists(answers(), min_size=2, max_size=4), cuts=st.lists(st.integers(0, 2000)))
@settings(max_examples=300)
def test_answers_one_after_another_read_with_one_reader_as_each_alone(
    raws: list[bytes], cuts: list[int]
) -> None:
    kept = AnswerReader()
    for n, raw in enumerate(raws):
        alone, keep_alive = read_with_ours(raw, cuts)
        if n:
            kept.restart()
        for piece in split(raw, cuts):
            kept.feed(piece)
        if not kept.done:
            kept.eof()
        again = kept.received()
        assert (again.status_code, again.reason, again.headers, again.content) == (
            alone.status_code,
            alone.reason,
            alone.headers,
            alone.content,
        )
        assert (again.lowered, again.encoded) == (alone.lowered, alone.encoded)
        assert kept.keep_alive == keep_alive
        if not keep_alive:
            break  # the connection ends here


class _Transport(asyncio.Transport):
    """What `Stream` sees of a socket, without one."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.paused = False
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def deliver(stream: wire.Stream, data: bytes) -> None:
    """Bytes as the event loop hands them to a buffered protocol: into its buffer, by size."""
    while data:
        buffer = stream.get_buffer(-1)
        size = min(len(buffer), len(data))
        buffer[:size] = data[:size]
        stream.buffer_updated(size)
        data = data[size:]


async def read_with_stream(raw: bytes, cuts: list[int]) -> tuple[Received, bool]:
    stream = wire.Stream()
    stream.connection_made(_Transport())
    reader = AnswerReader()
    stream.expect(reader)
    for piece in split(raw, cuts):
        deliver(stream, piece)
        if reader.done:
            break
    if not reader.done:
        stream.eof_received()
    await stream.answered(1.0)
    return reader.received(), reader.keep_alive and not stream.stale


@given(raw=answers(), cuts=st.lists(st.integers(0, 2000), max_size=6))
@settings(max_examples=300)
def test_answers_a_stream_receives_read_as_h11_reads_them(raw: bytes, cuts: list[int]) -> None:
    status, headers, body, keep = read_with_h11(raw, cuts)
    answer, keep_alive = asyncio.run(read_with_stream(raw, cuts))
    assert (answer.status_code, answer.headers, answer.content) == (status, headers, body)
    assert keep_alive == keep


async def test_a_stream_reads_an_answer_larger_than_its_buffer() -> None:
    body = bytes(range(256)) * (3 * wire.READ_SIZE // 256 + 7)
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    answer, keep_alive = await read_with_stream(raw, [100, wire.READ_SIZE + 5])
    assert (answer.content, keep_alive) == (body, True)


async def test_bytes_while_no_answer_is_awaited_make_the_connection_stale() -> None:
    stream = wire.Stream()
    transport = _Transport()
    stream.connection_made(transport)
    assert not stream.stale
    deliver(stream, b"x" * (wire.READ_BUFFER_LIMIT + 1))
    assert stream.stale
    assert transport.paused  # no more is read until the connection is dropped


@pytest.mark.parametrize(
    ("ending", "error"),
    [
        (None, httpx.RemoteProtocolError),  # the server closed mid-answer
        (ConnectionResetError("reset"), httpx.ReadError),  # the connection broke
    ],
)
async def test_a_stream_closed_mid_answer_fails_the_answer(
    ending: Exception | None, error: type[Exception]
) -> None:
    stream = wire.Stream()
    stream.connection_made(_Transport())
    stream.expect(AnswerReader())
    deliver(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    if ending is None:
        stream.eof_received()
    stream.connection_lost(ending)
    with pytest.raises(error):
        await stream.answered(1.0)


async def test_a_stream_fed_bytes_that_are_not_http_fails_the_answer_once() -> None:
    stream = wire.Stream()
    stream.connection_made(_Transport())
    stream.expect(AnswerReader())
    deliver(stream, b"NOT HTTP AT ALL\r\n\r\n")
    deliver(stream, b"more garbage")  # after the failure: dropped, not raised in the loop
    with pytest.raises(httpx.RemoteProtocolError):
        await stream.answered(1.0)


def test_the_reason_phrase_is_read() -> None:
    answer, keep = read_with_ours(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", [5])
    assert (answer.status_code, answer.reason, keep) == (404, b"Not Found", True)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # closed mid-body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",  # closed mid-chunk
        b"HTTP/1.1 200 OK\r\nContent-Le",  # closed mid-head
        b"",  # closed before anything
    ],
)
def test_a_connection_closed_mid_answer_is_a_protocol_error(raw: bytes) -> None:
    reader = AnswerReader()
    if raw:
        reader.feed(raw)
    with pytest.raises(httpx.RemoteProtocolError, match="closed the connection mid-answer"):
        reader.eof()


@pytest.mark.parametrize(
    "raw",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    ],
)
def test_bytes_that_are_not_an_answer_are_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        AnswerReader().feed(raw)


def test_bytes_after_a_whole_answer_keep_it_but_not_the_connection() -> None:
    reader = AnswerReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
    assert reader.done
    answer = reader.received()
    assert (answer.content, reader.keep_alive) == (b"ok", False)


def test_a_target_is_refused_for_any_byte_outside_visible_ascii_and_a_method_each_time() -> None:
    for byte in range(256):
        target = b"/a%cb" % byte
        if 0x21 <= byte <= 0x7E:
            assert request_head("GET", target, b"") == b"GET %b HTTP/1.1\r\n\r\n" % target
        else:
            with pytest.raises(httpx.LocalProtocolError, match="Illegal target"):
                request_head("GET", target, b"")
    # A method checked once is remembered as accepted; a refused one is refused again.
    for _ in range(2):
        assert request_head(b"PATCH", b"/", b"").startswith(b"PATCH / HTTP/1.1\r\n")
        with pytest.raises(httpx.LocalProtocolError, match=r"Illegal method b'G\(ET'"):
            request_head("G(ET", b"/", b"")
