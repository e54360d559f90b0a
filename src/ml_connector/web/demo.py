"""`ml-connector demo --serve`: the console over the demo's data, with a one-time sign-in.

After the demo's syncs, while both sandboxes still run, an admin user ``demo`` with a random
password is added to the demo's temporary database, the URL and that password are printed
once, and the console serves until Ctrl+C. The user lives in the temporary home and goes with
it, so the password is worthless afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from ml_connector.passwords import Passwords
from ml_connector.settings import AppSettings
from ml_connector.store.sql import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.usecases.users import add_user
from ml_connector.vault import Vault
from ml_connector.web.context import ConsoleConfig
from ml_connector.web.serve import DEFAULT_HOST, serve_console

__all__ = ["DEMO_USER", "serve_demo_console"]

DEMO_USER = "demo"


async def serve_demo_console(
    settings: AppSettings, *, port: int, say: Callable[[str], None]
) -> None:
    password = secrets.token_urlsafe(12)
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        await add_user(
            SqlUsers(store.engine), Passwords(), DEMO_USER, "admin", password, actor="demo"
        )
    finally:
        await store.close()
    say(f"Console: http://{DEFAULT_HOST}:{port}/  sign in as {DEMO_USER} / {password}")
    say("(a one-time sign-in: the user lives in the demo's temporary home and goes with it)")
    await serve_console(settings, ConsoleConfig(), port=port, say=say)
