"""`wire.Answer` read cheaply: its headers as httpx reads them, built only when one is read, and
its Content-Type's charset parsed once per value."""

from __future__ import annotations

import email.message

import httpx
import pytest

from ml_connector import wire
from ml_connector.cin7.retry import Outcome, decide
from ml_connector.wire import Answer, AnswerHeaders, Header

PAIRS: list[list[Header]] = [
    [],
    [(b"retry-after", b"42 Seconds")],
    [(b"retry-after", b"1"), (b"x-trace", b"a"), (b"retry-after", b"2")],
    [(b"x-name", "Señor".encode()), (b"x-ratelimit-reset", b"30")],
    [(b"x-name", "Señor".encode("latin-1"))],
]


@pytest.mark.parametrize("pairs", PAIRS)
def test_answer_headers_read_as_httpx_headers(pairs: list[Header]) -> None:
    ours, theirs = AnswerHeaders(pairs), httpx.Headers(pairs)
    assert dict(ours) == dict(theirs)
    assert len(ours) == len(theirs)
    for name in ("retry-after", "Retry-After", "x-name", "X-RateLimit-Reset", "absent"):
        assert ours.get(name) == theirs.get(name)
        assert (name in ours) == (name in theirs)


def test_headers_are_built_only_when_one_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = httpx.Headers

    def counted(*args: object) -> httpx.Headers:
        built.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(wire.httpx, "Headers", counted)
    ok = decide(200, '{"Total": 0}', AnswerHeaders([(b"content-type", b"application/json")]))
    assert ok.outcome is Outcome.OK
    assert built == []
    limited = decide(429, "slow down", AnswerHeaders([(b"retry-after", b"42 Seconds")]))
    assert limited.outcome is Outcome.RATE_LIMITED
    assert limited.retry_after == 42
    assert len(built) == 1


def test_a_content_type_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    content_type = b"text/plain; charset=ISO-8859-1; profile=answer-test"
    body = "Señor".encode("latin-1")
    assert Answer(200, [(b"content-type", content_type)], body).text == "Señor"

    def refuse() -> email.message.Message:
        raise AssertionError("the Content-Type was parsed again")

    monkeypatch.setattr(wire.email.message, "Message", refuse)
    assert Answer(200, [(b"content-type", content_type)], body).text == "Señor"
    assert Answer(200, [(b"content-type", content_type)], b"plain").text == "plain"
