"""The sandboxes are served by uvicorn's h11 server whatever else is installed: httptools, which
the connector's client brings, would otherwise be picked up by uvicorn's auto-detection."""

from __future__ import annotations

from typing import Any

import httptools
import pytest
import uvicorn
from typer.testing import CliRunner

from ml_connector.cli.app import app as cli_app
from ml_connector.sandbox import SERVER_HTTP
from ml_connector.serve import ServerThread


def test_httptools_is_installed_so_the_choice_matters() -> None:
    assert httptools.__version__
    assert SERVER_HTTP == "h11"


def test_the_qad_sandbox_command_serves_with_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    configs: list[uvicorn.Config] = []
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda server, *a, **k: configs.append(server.config)
    )
    result = CliRunner().invoke(cli_app, ["sandbox", "qad", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert [config.http for config in configs] == ["h11"]


def test_the_cin7_sandbox_command_serves_with_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(cli_app, ["sandbox", "cin7", "--port", "0", "--purchases", "3"])
    assert result.exit_code == 0, result.output
    assert [call["http"] for call in calls] == ["h11"]


def test_a_server_thread_serves_with_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    configs: list[uvicorn.Config] = []
    built = uvicorn.Server.__init__

    def capture(server: uvicorn.Server, config: uvicorn.Config) -> None:
        configs.append(config)
        built(server, config)

    monkeypatch.setattr(uvicorn.Server, "__init__", capture)
    ServerThread(object())  # built, never started
    assert [config.http for config in configs] == ["h11"]
