"""The `serve` command's body: settings read at the edge, then :func:`serve_console`."""

from __future__ import annotations

from pydantic import SecretStr

from ml_connector.cli.console import EXIT_OK, say
from ml_connector.masking import keep_secret
from ml_connector.settings import load_settings
from ml_connector.web.context import ConsoleConfig
from ml_connector.web.serve import serve_console

__all__ = ["serve"]


async def serve(host: str, port: int, behind_https: bool, metrics_token: str | None) -> int:
    keep_secret(metrics_token)
    config = ConsoleConfig(
        behind_https=behind_https,
        metrics_token=SecretStr(metrics_token) if metrics_token else None,
    )
    await serve_console(
        load_settings(), config, host=host, port=port, say=lambda line: say(line, err=True)
    )
    return EXIT_OK
