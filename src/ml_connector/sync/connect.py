"""Clients for one stored connection, and the plain-spoken connection test.

`connection test` must say which side fails and why: bad credentials, unreachable, wrong tenant
URL, missing permission. The clients already raise those classes with readable messages; this
module runs both pings and keeps each side's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from ml_connector.cin7.client import Cin7Client
from ml_connector.cin7.pacer import Pacer, pacer_for
from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    RemoteError,
    Unavailable,
    UrlRefused,
    WrongTenantUrl,
)
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.inflight import InFlight
from ml_connector.qad.profile import QadProfile, stored_profile
from ml_connector.qad.routing import build_channel
from ml_connector.qad.settings import QadSettings
from ml_connector.store.models import ConnectionConfig


def cin7_client(
    config: ConnectionConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    pacer: Pacer | None = None,
) -> Cin7Client:
    """A Cin7 client paced by `pacer`, by default the process-wide pacer of the connection's
    application key (`usecases/throttles.py` picks the one shared by workers)."""
    cin7 = config.cin7
    return Cin7Client(
        cin7.account_id,
        cin7.application_key,
        base_url=cin7.base_url,
        transport=transport,
        pacer=pacer or pacer_for(cin7.application_key, limit=config.sync.cin7_rate_limit),
        timeout=config.sync.cin7_timeout,
    )


def qad_settings(config: ConnectionConfig) -> QadSettings:
    """The QAD tenant settings of a connection (the URL check runs here)."""
    qad = config.qad
    return QadSettings(
        base_url=qad.base_url,
        client_id=qad.client_id,
        username=qad.username,
        password=qad.password,
        domain=qad.domain,
        entity=qad.entity,
        supplier_shared_set=qad.shared_set,
        default_site=qad.site,
        daybook=qad.daybook,
        invoice_status=qad.invoice_status,
        allow_local=config.allow_local,
    )


def qad_profile(config: ConnectionConfig) -> QadProfile:
    """The tenant profile stored with the connection (`rest` when none was chosen)."""
    return config.qad.profile or stored_profile(None)


def qad_client(
    config: ConnectionConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    in_flight: InFlight | None = None,
) -> QadChannel:
    """The QAD channel of a connection, routed per capability by its profile, its requests
    bounded by `in_flight` (default: the profile's ``[limits] in_flight``, in this pass)."""
    return build_channel(
        qad_settings(config),
        qad_profile(config),
        transport=transport,
        timeout=config.sync.qad_timeout,
        in_flight=in_flight,
    )


VerdictProblem = Literal[
    "", "credentials", "permission", "tenant-url", "config", "unreachable", "rate-limited", "other"
]
"""Why a side failed, by error class: refused credentials or a missing permission (exit 3), a
URL that is refused or leads to no tenant, or other settings (exit 2), no answer (exit 4)."""


@dataclass(frozen=True)
class Verdict:
    """One side of a connection test; ``problem`` is empty when the side is fine."""

    system: str
    ok: bool
    message: str
    problem: VerdictProblem = ""


def _detail(exc: ConnectorError) -> str:
    """The error without the client's own `system:` prefix (the verdict names the side)."""
    return exc.message if isinstance(exc, RemoteError) else str(exc)


def verdict_problem(exc: ConnectorError) -> VerdictProblem:
    """Why a side failed, from the class of what it raised (never from its message)."""
    if isinstance(exc, PermissionDenied):
        return "permission"
    if isinstance(exc, AuthRejected):
        return "credentials"
    if isinstance(exc, UrlRefused | WrongTenantUrl):
        return "tenant-url"
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, RateLimited):
        return "rate-limited"
    if isinstance(exc, Unavailable):
        return "unreachable"
    return "other"


async def check_connection(
    config: ConnectionConfig, *, pacer: Pacer | None = None
) -> list[Verdict]:
    """Ping Cin7 (`GET me`, through `pacer` when given) and QAD (token + permission probe);
    one verdict per side."""
    verdicts: list[Verdict] = []
    try:
        async with cin7_client(config, pacer=pacer) as cin7:
            company = await cin7.ping()
        verdicts.append(Verdict("cin7", True, f"Cin7 Core answers for {company.company!r}"))
    except ConnectorError as exc:
        verdicts.append(Verdict("cin7", False, f"Cin7 Core: {_detail(exc)}", verdict_problem(exc)))
    try:
        async with qad_client(config) as qad:
            await qad.ping()
        verdicts.append(
            Verdict("qad", True, f"QAD tenant {config.qad.base_url} accepts {config.qad.username}")
        )
    except ConnectorError as exc:
        verdicts.append(Verdict("qad", False, f"QAD: {_detail(exc)}", verdict_problem(exc)))
    return verdicts
