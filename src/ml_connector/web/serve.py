"""`ml-connector serve`: the console on uvicorn, over the store of the settings.

Binds 127.0.0.1:8700 by default. Put a TLS proxy in front of it for anything but a local
browser and pass ``--behind-https`` so cookies are marked ``Secure``; uvicorn then trusts the
``X-Forwarded-*`` headers of a proxy on the same machine only, so sign-in throttling sees the
browser's address, not the proxy's.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from ml_connector.settings import AppSettings
from ml_connector.store.sql import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.vault import Vault
from ml_connector.web.app import create_app
from ml_connector.web.context import ConsoleConfig

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "serve_console"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


class _Server(uvicorn.Server):
    """uvicorn's server, except that Ctrl+C or SIGTERM end :meth:`serve` normally.

    uvicorn re-raises the signal after its graceful shutdown; here the store still has to be
    closed after it, so the signal only asks the server to stop.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        wanted = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in wanted}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


async def serve_console(
    settings: AppSettings,
    config: ConsoleConfig,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    say: Callable[[str], None] = lambda _line: None,
) -> None:
    """Open the store (applying migrations), serve until interrupted, close the store."""
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        if not await SqlUsers(store.engine).list_users():
            say(
                "No console users yet: add one with "
                "`ml-connector user add NAME --role admin` (nobody can sign in until then)."
            )
        shown = f"[{host}]" if ":" in host else host
        say(f"Console on http://{shown}:{port}/ (Ctrl+C stops it)")
        server = _Server(
            uvicorn.Config(
                create_app(store, config),
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                proxy_headers=True,
                server_header=False,
            )
        )
        await server.serve()
        say("Console stopped.")
    finally:
        await store.close()
