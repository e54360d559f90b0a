"""`connection fit`: does this QAD tenant (and Cin7 account) fit the connection's profile?

A first full sync is the worst place to learn that a tenant has no REST route for receipts, that
its browse rows are keyed differently, or that QXtend is not exposed. `fit_connection` probes
each capability the profile relies on, read-only, and reports for each one what it saw
(evidence: the route, the status, a short excerpt) and what to change in the profile (advice):

| capability | probe |
|---|---|
| `qad token` | the token endpoint (password grant) |
| `po write permission` | `permissionState` for the PO header view, action WRITE |
| `browse <list>` | the first page of each reference browse, its row keys against `[browses]` |
| `receipts` / `invoices` | the REST route (GET, a key nothing has) or QXtend's WSDL, per profile |
| `receipt read-back` / `invoice look-up` | with QXtend, the browses the read-back goes through |
| `qxtend` | the WSDL, whatever the profile, so the advice can say which profile would fit |
| `cin7` | `GET me`, and the key's budget spent in the last minute (see below) |

The Cin7 budget is what the key's pacer counts: every worker's calls where the pacer is shared
(PostgreSQL), this process's alone otherwise, and the evidence says which.

It never writes: every QAD probe is a GET (the token request aside), QXtend is asked for its
WSDL only, Cin7 for `me` only. "QXtend not exposed" is a normal finding: advice points at the
`rest` profile.

Exit status (`FitReport.exit_code`): 0 fits; 3 credentials or permission refused; 4 a remote
unreachable; otherwise 2, a profile change is needed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ml_connector.cin7.pacer import LocalPacer, Pacer
from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    RemoteError,
    Unavailable,
)
from ml_connector.qad.profile import QadProfile
from ml_connector.qad.rest.adapter import INVOICES, RECEIPTS
from ml_connector.qad.rest.browse import BROWSE_PATH
from ml_connector.qad.rest.channel import RestChannel
from ml_connector.qad.routing import with_profile
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.sync.connect import cin7_client, qad_profile, qad_settings
from ml_connector.usecases import throttles
from ml_connector.usecases.opening import load_connection

if TYPE_CHECKING:
    from ml_connector.qad.qxtend.channel import QxtendChannel

__all__ = ["Capability", "FitReport", "fit_connection", "probe_fit"]

Problem = Literal["", "credentials", "permission", "unreachable", "profile"]
REFERENCE_BROWSES = (
    "gl_accounts",
    "items",
    "sites",
    "credit_terms",
    "currencies",
    "tax_classes",
    "suppliers",
)
# A key no document has: the REST probes read "nothing found" and never touch a record.
PROBE_KEY = "ML-FIT-PROBE"
EXCERPT = 200


@dataclass(frozen=True)
class Capability:
    """One probe's finding: `evidence` says what was seen, `advice` what to change."""

    name: str
    ok: bool
    evidence: str
    advice: str = ""
    problem: Problem = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "evidence": self.evidence, "advice": self.advice}


@dataclass(frozen=True)
class FitReport:
    """The findings for one connection and its profile."""

    connection: str
    profile: str
    capabilities: list[Capability] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return all(c.ok for c in self.capabilities)

    @property
    def exit_code(self) -> int:
        problems = {c.problem for c in self.capabilities if not c.ok}
        if not problems:
            return 0
        if problems & {"credentials", "permission"}:
            return 3
        if "unreachable" in problems:
            return 4
        return 2

    def to_json(self) -> dict[str, Any]:
        return {
            "fits": self.fits,
            "profile": self.profile,
            "capabilities": [c.to_json() for c in self.capabilities],
        }


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _failed(name: str, exc: ConnectorError, advice: str = "", *, route: str = "") -> Capability:
    """The finding for a probe that raised; `route` (what was asked) leads the evidence.

    No answer at all is about the network or the URL, never about the profile or the
    credentials, so it gets that advice whatever the probe would otherwise suggest.
    """
    text = _excerpt(exc.message if isinstance(exc, RemoteError) else str(exc))
    if isinstance(exc, PermissionDenied):
        problem: Problem = "permission"
    elif isinstance(exc, AuthRejected):
        problem = "credentials"
    elif isinstance(exc, Unavailable | RateLimited):
        problem = "unreachable"
        if isinstance(exc, Unavailable):
            flag = "--cin7-base-url" if getattr(exc, "system", "") == "cin7" else "--qad-url"
            advice = f"no answer from here: check {flag} and the network, then fit again"
    else:
        problem = "profile"
    return Capability(name, False, f"{route}: {text}" if route else text, advice, problem)


class _Probe:
    """The probes of one connection, over a REST channel that is never asked to write."""

    def __init__(self, rest: RestChannel, qxtend: QxtendChannel, profile: QadProfile) -> None:
        self.rest = rest
        self.qxtend = qxtend
        self.profile = profile
        self.base = rest.settings.base_url

    async def token(self) -> Capability:
        await self.rest.tokens.get()
        return Capability(
            "qad token",
            True,
            f"POST {self.base}/oauth/token: 200, a token for {self.rest.settings.username}",
        )

    async def permission(self) -> Capability:
        await self.rest.ping()
        return Capability(
            "po write permission",
            True,
            "GET api/qracore/permissionState?uri=…IPurchaseOrderHeader&action=WRITE: "
            "200, hasPermission true",
        )

    async def browse(self, kind: str) -> Capability:
        keys = getattr(self.profile.browses, kind)
        wanted = {name: key for name, key in keys.model_dump().items() if name != "id"}
        settings = self.rest.settings
        params = [("browseId", keys.id), ("page", "1"), ("pageSize", "5"), ("pageAction", "first")]
        workspace = {"x-qad-workspace-id": f"{settings.domain}_{settings.entity}"}
        name = f"browse {kind}"
        route = f"GET {BROWSE_PATH}?browseId={keys.id}"
        try:
            body = await self.rest.transport.get(BROWSE_PATH, params, headers=workspace)
        except ConfigError as exc:
            return _failed(
                name,
                exc,
                f"set [browses.{kind}] id to this tenant's browse (GET {BROWSE_PATH} answered "
                "no browse by that id)",
                route=route,
            )
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            return Capability(
                name,
                True,
                f"{route}: 200, 0 rows (nothing to check the row keys against; an empty browse "
                "can also mean a wrong id)",
            )
        found = sorted(rows[0])
        missing = {field: key for field, key in wanted.items() if key not in rows[0]}
        # The row keys are the excerpt; what is missing is the finding and is never cut.
        evidence = f"{route}: 200, keys {_excerpt(', '.join(found))}"
        if not missing:
            return Capability(name, True, evidence)
        advice = "; ".join(
            f"[browses.{kind}] {field} = {_closest(field, key, found)!r}"
            for field, key in missing.items()
        )
        return Capability(
            name,
            False,
            f"{evidence}; missing {', '.join(missing.values())}",
            f"set {advice}",
            "profile",
        )

    async def rest_route(self, name: str, path: str, params: dict[str, str]) -> Capability:
        try:
            await self.rest.transport.get(path, params)
        except ConfigError as exc:
            return _failed(name, exc, route=f"GET {path}")
        return Capability(
            name, True, f'GET {path}: 200 (a route we designed: docs/qad-rest.md, "(gap)")'
        )

    async def wsdl(self) -> Capability:
        from ml_connector.qad.qxtend.transport import QxtendNotExposed

        try:
            await self.qxtend.ping()
        except QxtendNotExposed as exc:
            return _failed(
                "qxtend",
                exc,
                "QXtend Inbound is not exposed here (common for cloud tenants): use the rest "
                "profile, or set [qxtend] url if it lives elsewhere",
            )
        return Capability("qxtend", True, f"GET {self.qxtend.url}?wsdl: 200, a WSDL")


async def _guarded(
    name: str, probe: Callable[[], Awaitable[Capability]], advice: str = ""
) -> Capability:
    try:
        return await probe()
    except ConnectorError as exc:
        return _failed(name, exc, advice)


def _tokens(key: str) -> set[str]:
    field = key.rsplit(".", 1)[-1]
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", field).replace("_", " ").lower()
    return set(spaced.split())


def _closest(field: str, key: str, found: list[str]) -> str:
    """The found row key most like the one the profile expects for `field` (`code`, `name`…):
    the same field name, else one that says what the field is, else most words in common."""
    hint = field.split("_")[0][:4].lower()

    def score(candidate: str) -> tuple[int, int, int]:
        last = candidate.rsplit(".", 1)[-1].lower()
        return (
            last == key.rsplit(".", 1)[-1].lower(),
            hint in last,
            len(_tokens(candidate) & _tokens(key)),
        )

    return max(found, key=score) if found else key


async def probe_fit(
    config: ConnectionConfig,
    *,
    qad_transport: httpx.AsyncBaseTransport | None = None,
    cin7_transport: httpx.AsyncBaseTransport | None = None,
    cin7_pacer: Pacer | None = None,
) -> FitReport:
    """Probe every capability of `config`'s profile (read-only; see module docstring).

    `cin7_pacer` is the key's pacer (default: this process's); the budget it reports is what
    every worker sharing it has spent."""
    profile = qad_profile(config)
    settings = with_profile(qad_settings(config), profile)
    timeout = config.sync.qad_timeout
    found: list[Capability] = []
    # QXtend's modules (lxml, the QDoc builders) load when a fit runs, not with the CLI.
    from ml_connector.qad.qxtend.channel import QxtendChannel

    async with RestChannel(
        settings, transport=qad_transport, timeout=timeout, browses=profile.browses
    ) as rest:
        qxtend = QxtendChannel(rest, settings, profile, transport=qad_transport, retries=0)
        async with qxtend:
            probe = _Probe(rest, qxtend, profile)
            token = await _guarded(
                "qad token",
                probe.token,
                "check --qad-url, --qad-client-id, --qad-username and the password",
            )
            found.append(token)
            if token.ok:
                found.append(
                    await _guarded(
                        "po write permission",
                        probe.permission,
                        "give the QAD user the right to maintain purchase orders",
                    )
                )
                for kind in REFERENCE_BROWSES:
                    found.append(await _guarded(f"browse {kind}", partial(probe.browse, kind)))
                wsdl = await _guarded("qxtend", probe.wsdl)
                found += await _documents(probe, wsdl)
    found.append(await _cin7(config, cin7_transport, cin7_pacer))
    return FitReport(config.name, profile.name, found)


async def _documents(probe: _Probe, wsdl: Capability) -> list[Capability]:
    """The receipt and invoice capabilities over the channel the profile names for each."""
    profile = probe.profile
    settings = probe.rest.settings
    found: list[Capability] = []
    documents: tuple[tuple[Literal["receipts", "invoices"], str, dict[str, str]], ...] = (
        ("receipts", RECEIPTS, {"domainCode": settings.domain, "purchaseOrderNumber": PROBE_KEY}),
        (
            "invoices",
            INVOICES,
            {
                "entityCode": settings.entity,
                "supplierCode": PROBE_KEY,
                "invoiceReference": PROBE_KEY,
            },
        ),
    )
    over_qxtend = f"over QXtend: {wsdl.evidence}"
    for capability, path, params in documents:
        if profile.channels.of(capability) == "rest":
            route = partial(probe.rest_route, capability, path, params)
            result = await _guarded(capability, route)
            if result.problem == "profile":
                advice = (
                    "QXtend answers here: use the mixed profile"
                    if wsdl.ok
                    else "QXtend does not answer either: this route must be traced on the tenant "
                    "(ours is a guess, docs/qad-rest.md)"
                )
                result = Capability(capability, False, result.evidence, advice, "profile")
            found.append(result)
            continue
        found.append(Capability(capability, wsdl.ok, over_qxtend, wsdl.advice, wsdl.problem))
        browse = "receipts" if capability == "receipts" else "supplier_invoices"
        label = "receipt read-back" if capability == "receipts" else "invoice look-up"
        read = await _guarded(label, partial(probe.browse, browse))
        found.append(Capability(label, read.ok, read.evidence, read.advice, read.problem))
    if profile.channels.of("purchase_orders") == "qxtend":
        found.append(Capability("purchase orders", wsdl.ok, over_qxtend, wsdl.advice, wsdl.problem))
    if not profile.channels.uses_qxtend:
        # Not needed by this profile: reported as a finding, never as a misfit.
        found.append(Capability("qxtend", True, wsdl.evidence + " (not used by this profile)"))
    return found


async def _cin7(
    config: ConnectionConfig, transport: httpx.AsyncBaseTransport | None, pacer: Pacer | None
) -> Capability:
    try:
        async with cin7_client(config, transport=transport, pacer=pacer) as cin7:
            company = await cin7.ping()
            used, limit = await cin7.pacer.in_window(), cin7.pacer.limit
    except ConnectorError as exc:
        advice = (
            "another process is spending this application key's budget; wait, or give this "
            "connection its own key"
            if isinstance(exc, RateLimited)
            else "check --cin7-account-id and the application key"
        )
        return _failed("cin7", exc, advice)
    spent = f"{used} of {limit} calls in the last minute ({limit - used} left"
    if isinstance(cin7.pacer, LocalPacer):
        budget = f"this process used {spent}; other processes on the same key are not counted)"
    else:  # a pacer shared through the database counts every worker on the key
        budget = f"every worker on this application key used {spent})"
    return Capability("cin7", True, f"GET me: 200, {company.company!r}; {budget}")


async def fit_connection(store: Store, name: str, **transports: Any) -> FitReport:
    """`connection fit NAME`: probe the stored connection; stores nothing."""
    config = await load_connection(store, name)
    return await probe_fit(config, cin7_pacer=throttles.cin7_pacer(store, config), **transports)
