"""The QAD sandbox: several isolated tenants behind one ASGI app."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.routing import Mount

from ml_connector.sandbox.qad.app import build_tenant_app
from ml_connector.sandbox.qad.tenant import QadTenant

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")


class QadSandbox:
    """Tenants served under `/{tenant}/{context_root}`; `.app` is the ASGI app (no lifespan)."""

    def __init__(self, tenants: Sequence[QadTenant], context_root: str) -> None:
        self._tenants = {t.name: t for t in tenants}
        self.context_root = context_root
        self.app = Starlette(
            routes=[
                Mount(f"/{t.name}/{context_root}", app=build_tenant_app(t))
                for t in self._tenants.values()
            ]
        )

    def __repr__(self) -> str:
        return f"QadSandbox(tenants={list(self._tenants)}, context_root={self.context_root!r})"

    @property
    def tenant_names(self) -> tuple[str, ...]:
        return tuple(self._tenants)

    def tenant(self, name: str = "acme") -> QadTenant:
        """The in-memory state of one tenant; KeyError when there is no such tenant."""
        return self._tenants[name]

    def base_url(self, root_url: str, tenant: str = "acme") -> str:
        """`base_url("http://127.0.0.1:8702")` → `http://127.0.0.1:8702/acme/clouderp`."""
        if tenant not in self._tenants:
            raise KeyError(tenant)
        return f"{root_url.rstrip('/')}/{tenant}/{self.context_root}"


def create_qad_sandbox(
    *,
    tenants: Sequence[str] = ("acme",),
    seed: int = 7,
    token_ttl: float = 1800,
    client_id: str | None = None,
    username: str = "integration",
    password: str | None = None,
    context_root: str = "clouderp",
    clock: Callable[[], float] | None = None,
) -> QadSandbox:
    """Build a QAD sandbox in-process.

    Each tenant gets the seeded reference data of `qad_catalog()`, its own documents, tokens and
    `client_id`, the user `username` (may write) and the user `viewer` (reads only; 403 on
    writes), both with `password`. Without explicit values the client id (32 hex characters)
    and password are fakes derived from `seed` and the tenant name, so they are stable per seed.
    `clock` (seconds, default `time.monotonic`) drives token expiry, so tests can move time.

        sandbox = create_qad_sandbox(tenants=("acme", "globex"), token_ttl=2)
        transport = httpx.ASGITransport(app=sandbox.app)
        base = sandbox.base_url("http://qad.test", "acme")  # .../acme/clouderp
    """
    names = list(tenants)
    if not names or len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
        raise ValueError("tenants must be distinct names of letters, digits, '-' or '_'")
    root = context_root.strip("/")
    if not root or not all(_SEGMENT.match(s) for s in root.split("/")):
        raise ValueError(f"bad context root {context_root!r}")
    if token_ttl <= 0:
        raise ValueError("token_ttl must be positive")
    if not username or username == "viewer":
        raise ValueError("username must be set and differ from 'viewer'")
    ticking = clock or time.monotonic
    return QadSandbox(
        [
            QadTenant(
                name,
                seed=seed,
                client_id=client_id or _fake(seed, name, "client_id", 32),
                username=username,
                password=password or "sbx-" + _fake(seed, name, "password", 16),
                token_ttl=token_ttl,
                clock=ticking,
            )
            for name in names
        ],
        root,
    )


def _fake(seed: int, tenant: str, what: str, length: int) -> str:
    return hashlib.sha256(f"ml-connector:qad-sandbox:{seed}:{tenant}:{what}".encode()).hexdigest()[
        :length
    ]
