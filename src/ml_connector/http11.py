"""HTTP/1.1 for the lean transport (`wire.py`): a request's head as bytes, an answer parsed whole.

Requests are written here: a request line and header lines, checked as h11 checks them (a header
name is a token, a value has no CR, LF or NUL and no surrounding whitespace, the target is
visible ASCII) and refused as `httpx.LocalProtocolError`. Header sets repeat (the client's
defaults, the bearer token), so `header_block` checks a set once and the caller keeps its bytes.

Answers are parsed by llhttp, Node.js's HTTP parser, through httptools: status line, headers,
bodies framed by `Content-Length` or chunked, informational (1xx) answers passed over, keep-alive
as the answer allows it. A body that runs until the server closes the connection (no length, not
chunked) ends at EOF, which httptools cannot be told, so `AnswerReader.eof` completes it; EOF
anywhere else, or bytes llhttp refuses, is `httpx.RemoteProtocolError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httptools
import httpx

__all__ = ["AnswerReader", "Received", "header_block", "request_head"]

Header = tuple[bytes, bytes]

_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_VISIBLE = bytes(range(0x21, 0x7F))
"""The bytes a request target is made of (visible ASCII): a target is not empty and has no other."""
_METHODS: dict[bytes | str, bytes] = {}
"""Methods already checked, as given and as sent: the same few recur on every request."""
METHOD_CACHE_SIZE = 32
_DIGITS = re.compile(rb"[0-9]{1,20}")
_NO_BODY = (204, 304)


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("ascii")


def header_block(headers: Iterable[tuple[bytes | str, bytes | str]]) -> bytes:
    """`Name: value\\r\\n` lines for `headers`, in order, each checked; `LocalProtocolError` for
    a header HTTP/1.1 does not allow, or for framing the lean transport does not send."""
    lines = []
    for raw_name, raw_value in headers:
        name, value = _bytes(raw_name), _bytes(raw_value)
        if _TOKEN.fullmatch(name) is None:
            raise httpx.LocalProtocolError(f"Illegal header name {name!r}")
        if _FIELD_VALUE.fullmatch(value) is None:
            raise httpx.LocalProtocolError(f"Illegal header value {value!r}")
        lower = name.lower()
        if lower == b"transfer-encoding":
            raise httpx.LocalProtocolError("bodies are sent whole, with a Content-Length")
        if lower == b"content-length" and _DIGITS.fullmatch(value) is None:
            raise httpx.LocalProtocolError("bad Content-Length")
        lines.append(b"%b: %b\r\n" % (name, value))
    return b"".join(lines)


def request_head(method: bytes | str, target: bytes, block: bytes) -> bytes:
    """The request line for `method` and `target`, then `block` (from `header_block`) and the
    blank line that ends the head. A method is checked once (then remembered), a target with
    one pass over its bytes (`bytes.translate`, a third of a regex's cost per call)."""
    verb = _METHODS.get(method)
    if verb is None:
        verb = _bytes(method)
        if _TOKEN.fullmatch(verb) is None:
            raise httpx.LocalProtocolError(f"Illegal method {verb!r}")
        if len(_METHODS) < METHOD_CACHE_SIZE:
            _METHODS[method] = verb
    if not target or target.translate(None, _VISIBLE):  # what is left is not visible ASCII
        raise httpx.LocalProtocolError(f"Illegal target {target!r}")
    return b"%b %b HTTP/1.1\r\n%b\r\n" % (verb, target, block)


class Received:
    """A final answer: status, reason, header pairs as sent (names in their case) and body;
    `lowered`, the pairs with names in lower case, and `encoded`, whether a Content-Encoding
    other than identity applies to the body."""

    __slots__ = ("content", "encoded", "headers", "lowered", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: bytes,
        headers: list[Header],
        content: bytes,
        lowered: list[Header],
        encoded: bool,
    ):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        self.lowered = lowered
        self.encoded = encoded


class AnswerReader:
    """Bytes of one answer in, `Received` out: feed what the socket gives, then ask `done`.

    `keep_alive` says, once done, whether the connection may carry the next request: the
    answer allows it (HTTP/1.1 without `Connection: close`, a framed body) and nothing came
    after it. Then `restart` reads the next answer on that connection.
    """

    __slots__ = (
        "_body",
        "_complete",
        "_encoded",
        "_error",
        "_final",
        "_framed",
        "_headers",
        "_lowered",
        "_parser",
        "_reason",
        "_status",
        "_trailing",
        "keep_alive",
    )

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.restart()

    def restart(self) -> None:
        """Read the next answer on the connection, which the last one left open (`keep_alive`):
        llhttp is then where an answer starts, and its parser is kept (making one, with its
        callbacks looked up, costs more than parsing a short answer)."""
        self._headers: list[Header] = []
        self._lowered: list[Header] = []
        self._encoded = False
        self._body: list[bytes] = []
        self._reason = b""
        self._status = 0
        self._final = False  # the head of the final (not 1xx) answer is in
        self._framed = False  # its body has a length or is chunked
        self._complete = False
        self._error = ""
        self._trailing = False
        self.keep_alive = False

    # ---- llhttp's callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            self._trailing = True  # bytes after the answer: the connection is not reused
            return
        self._headers = []
        self._lowered = []
        self._encoded = False
        self._body = []
        self._reason = b""

    def on_status(self, reason: bytes) -> None:
        if not self._complete:
            self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._complete:
            self._headers.append((name, value))
            lower = name.lower()
            self._lowered.append((lower, value))
            if lower == b"content-encoding" and value.lower() != b"identity":
                self._encoded = True
            elif lower == b"content-length" or (
                lower == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                self._framed = True

    def on_headers_complete(self) -> None:
        if self._complete:
            return
        self._status = self._parser.get_status_code()
        if self._status == 101:
            self._error = "the server switched protocols, which no request asks for"
        self._final = self._status >= 200
        if self._status in _NO_BODY:
            self._framed = True

    def on_body(self, body: bytes) -> None:
        if not self._complete:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._complete:
            return
        if not self._final:  # an informational answer: the final one follows
            self._framed = False
            return
        self._complete = True
        self.keep_alive = self._parser.should_keep_alive()

    # ---- called by the connection ---------------------------------------------------------------

    def feed(self, data: bytes | memoryview) -> None:
        """Bytes from the socket; `httpx.RemoteProtocolError` when they are not HTTP/1.1."""
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if not self._complete:
                raise httpx.RemoteProtocolError(self._error or f"malformed answer: {exc}") from None
            self._trailing = True  # garbage after a whole answer: it stands, the socket goes
        if self._error:
            raise httpx.RemoteProtocolError(self._error)

    def eof(self) -> None:
        """The server closed the connection: that ends a body without length; else an error."""
        if self._complete:
            return
        if self._final and not self._framed:
            self._complete = True
            self.keep_alive = False
            return
        raise httpx.RemoteProtocolError("the server closed the connection mid-answer")

    @property
    def done(self) -> bool:
        return self._complete

    def received(self) -> Received:
        if self._trailing:
            self.keep_alive = False
        body = self._body
        content = body[0] if len(body) == 1 else b"".join(body)
        return Received(
            self._status, self._reason, self._headers, content, self._lowered, self._encoded
        )
