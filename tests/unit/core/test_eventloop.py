"""The connector's processes run on uvloop where it is installed, on asyncio's loop otherwise or
when ``ML_CONNECTOR_EVENT_LOOP=asyncio`` says so, and the CLI's commands go through it."""

from __future__ import annotations

import asyncio

import pytest
import typer
import uvloop

from ml_connector import eventloop
from ml_connector.cli import console
from ml_connector.errors import ConfigError


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.fixture(autouse=True)
def _no_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.EVENT_LOOP_ENV, raising=False)


def _without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    real = eventloop.find_spec
    monkeypatch.setattr(
        eventloop, "find_spec", lambda name: None if name == "uvloop" else real(name)
    )


@pytest.mark.parametrize("value", [None, "", "auto", "uvloop", " UVLoop "])
def test_uvloop_is_the_loop_when_installed(value: str | None) -> None:
    environ = {} if value is None else {eventloop.EVENT_LOOP_ENV: value}
    assert eventloop.loop_name(environ) == "uvloop"
    assert eventloop.loop_factory(environ) is uvloop.new_event_loop


def test_the_variable_chooses_asyncios_loop() -> None:
    environ = {eventloop.EVENT_LOOP_ENV: "asyncio"}
    assert eventloop.loop_name(environ) == "asyncio"
    assert eventloop.loop_factory(environ) is asyncio.new_event_loop


def test_an_unknown_choice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ML_CONNECTOR_EVENT_LOOP must be auto, uvloop or"):
        eventloop.loop_name({eventloop.EVENT_LOOP_ENV: "trio"})


def test_without_uvloop_asyncios_loop_runs_with_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_uvloop(monkeypatch)
    for value in ("auto", "uvloop"):
        assert eventloop.loop_name({eventloop.EVENT_LOOP_ENV: value}) == "asyncio"
    loop = eventloop.run(_running_loop())
    assert not isinstance(loop, uvloop.Loop)
    assert isinstance(loop, asyncio.BaseEventLoop)


def test_run_runs_the_coroutine_on_uvloop_and_closes_the_loop() -> None:
    loop = eventloop.run(_running_loop())
    assert isinstance(loop, uvloop.Loop)
    assert loop.is_closed()


def test_run_on_asyncios_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.EVENT_LOOP_ENV, "asyncio")
    loop = eventloop.run(_running_loop())
    assert not isinstance(loop, uvloop.Loop)


def test_run_with_an_unknown_choice_closes_the_coroutine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.EVENT_LOOP_ENV, "trio")
    main = _running_loop()
    with pytest.raises(ConfigError):
        eventloop.run(main)
    assert main.cr_frame is None  # closed, so no "never awaited" warning


def test_a_cli_command_body_runs_on_the_connectors_loop() -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    async def body() -> int:
        seen.append(asyncio.get_running_loop())
        return 0

    console.run(body)
    assert isinstance(seen[0], uvloop.Loop)


def test_a_cli_command_with_an_unknown_choice_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(eventloop.EVENT_LOOP_ENV, "trio")

    async def body() -> int:
        raise AssertionError("not run")

    with pytest.raises(typer.Exit) as stopped:
        console.run(body)
    assert stopped.value.exit_code == 2
    assert capsys.readouterr().err == (
        "error: ML_CONNECTOR_EVENT_LOOP must be auto, uvloop or asyncio, not 'trio'\n"
    )
