"""Cin7 Core simulator: the API under `/ExternalApi/v2/` with seeded data, rules and faults.

>>> sandbox = create_cin7_sandbox(seed=7, purchases=50)
>>> transport = httpx.ASGITransport(app=sandbox.app)  # or serve sandbox.app with uvicorn
>>> headers = {"api-auth-accountid": sandbox.account_id,
...            "api-auth-applicationkey": sandbox.application_key}

`sandbox.state` offers the `/_sandbox/` verbs in-process (`create_purchase`, `receive`,
`invoice`, `void`, `edit`, `pay`, `credit`, `convert`, `touch`, `stats`, `set_faults`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from ml_connector.sandbox.cin7.app import build_app
from ml_connector.sandbox.cin7.model import Cin7SandboxError
from ml_connector.sandbox.cin7.state import Cin7State, Faults

__all__ = ["Cin7Sandbox", "Cin7SandboxError", "Cin7State", "Faults", "create_cin7_sandbox"]


@dataclass(frozen=True)
class Cin7Sandbox:
    """The ASGI app and the state behind it. Credentials are sandbox fakes."""

    app: Starlette
    state: Cin7State

    @property
    def account_id(self) -> str:
        return self.state.account_id

    @property
    def application_key(self) -> str:
        return self.state.application_key

    @property
    def headers(self) -> dict[str, str]:
        """The two auth headers a client must send."""
        return {
            "api-auth-accountid": self.account_id,
            "api-auth-applicationkey": self.application_key,
        }

    def __repr__(self) -> str:
        return f"Cin7Sandbox(account_id={self.account_id!r}, seed={self.state.seed})"


def create_cin7_sandbox(
    *,
    seed: int = 7,
    suppliers: int = 40,
    purchases: int = 300,
    account_id: str | None = None,
    application_key: str | None = None,
    rate_limit: int = 60,
    rate_limit_status: int = 429,
    rate_window: float = 60.0,
    extra_application_keys: tuple[str, ...] = (),
    clock: Callable[[], float] | None = None,
) -> Cin7Sandbox:
    """Build the sandbox in-process: seeded data, state and ASGI app (no lifespan needed).

    `account_id`/`application_key` default to fake GUIDs derived from the seed. `rate_limit`
    is calls per rolling `rate_window` seconds (Cin7's 60; shorter for fast tests) per
    application key; `rate_limit_status` is 429 or 503 (the older behaviour).
    `extra_application_keys` are more keys on the same account, each with its own budget.
    `clock` (monotonic seconds, `time.monotonic` by default) drives the rate
    limit window and the sandbox's own time, so tests can advance it without sleeping.
    """
    state = Cin7State(
        seed=seed,
        suppliers=suppliers,
        purchases=purchases,
        account_id=account_id,
        application_key=application_key,
        rate_limit=rate_limit,
        rate_limit_status=rate_limit_status,
        rate_window=rate_window,
        clock=clock or time.monotonic,
    )
    for key in extra_application_keys:
        state.add_application_key(key)
    return Cin7Sandbox(app=build_app(state), state=state)
