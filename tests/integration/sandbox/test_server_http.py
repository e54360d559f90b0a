"""The sandboxes are served by uvicorn's h11 server on asyncio's event loop whatever else is
installed: httptools, which the connector's client brings, and uvloop, which the connector's own
processes run on, would otherwise be picked up by uvicorn's auto-detection."""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import httpx
import pytest
import uvicorn
import uvloop
from typer.testing import CliRunner

from ml_connector.cli.app import app as cli_app
from ml_connector.sandbox import SERVER_HTTP, SERVER_LOOP
from ml_connector.serve import ServerThread


def test_httptools_and_uvloop_are_installed_so_the_choice_matters() -> None:
    assert httptools.__version__
    assert uvloop.__version__
    assert SERVER_HTTP == "h11"
    assert SERVER_LOOP == "asyncio"


def test_the_qad_sandbox_command_serves_with_h11_on_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configs: list[uvicorn.Config] = []
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda server, *a, **k: configs.append(server.config)
    )
    result = CliRunner().invoke(cli_app, ["sandbox", "qad", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert [(config.http, config.loop) for config in configs] == [("h11", "asyncio")]


def test_the_cin7_sandbox_command_serves_with_h11_on_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(cli_app, ["sandbox", "cin7", "--port", "0", "--purchases", "3"])
    assert result.exit_code == 0, result.output
    assert [(call["http"], call["loop"]) for call in calls] == [("h11", "asyncio")]


def test_a_server_thread_serves_with_h11_on_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    configs: list[uvicorn.Config] = []
    built = uvicorn.Server.__init__

    def capture(server: uvicorn.Server, config: uvicorn.Config) -> None:
        configs.append(config)
        built(server, config)

    monkeypatch.setattr(uvicorn.Server, "__init__", capture)
    ServerThread(object())  # built, never started
    assert [(config.http, config.loop) for config in configs] == [("h11", "asyncio")]


async def _report_loop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app answering with the class of the event loop it runs on."""
    loop = type(asyncio.get_running_loop())
    body = f"{loop.__module__}.{loop.__qualname__}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_a_running_server_thread_is_on_asyncios_loop() -> None:
    with ServerThread(_report_loop) as server:
        answer = httpx.get(server.url, timeout=10)
    assert answer.text.startswith("asyncio.")
    assert "uvloop" not in answer.text
