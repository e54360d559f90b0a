"""`ml-connector sandbox qad`: serve the QAD sandbox on loopback with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

import typer
import uvicorn

from ml_connector.sandbox import SERVER_HTTP, SERVER_LOOP
from ml_connector.sandbox.qad.sandbox import create_qad_sandbox

_SECRET = re.compile(r"((?:password|refresh_token|access_token)=)[^&\s]*", re.IGNORECASE)


def serve_qad(
    host: str = typer.Option("127.0.0.1", help="Loopback address to bind (nothing else)."),
    port: int = typer.Option(8702, help="TCP port."),
    tenant: list[str] = typer.Option(["acme"], "--tenant", help="Tenant name; repeat for more."),
    client_id: str | None = typer.Option(
        None, "--client-id", help="OAuth client_id (default: a fake derived from the seed)."
    ),
    username: str = typer.Option("integration", help="Integration user that may write."),
    password: str | None = typer.Option(
        None, help="Password of the integration and viewer users (default: a seeded fake)."
    ),
    token_ttl: float = typer.Option(1800.0, "--token-ttl", help="Access token lifetime (s)."),
    seed: int = typer.Option(7, help="Seed for the fake credentials and fault injection."),
    context_root: str = typer.Option(
        "clouderp", "--context-root", help="Context root after the tenant, e.g. clouderp/test."
    ),
    qxtend: bool = typer.Option(
        True, "--qxtend/--no-qxtend", help="Expose QXtend Inbound (QdocWebService)."
    ),
) -> None:
    """Serve a simulated QAD Adaptive ERP tenant (OAuth, REST, browses, QXtend, three-way match)."""
    if not is_loopback(host):
        typer.echo(f"Refusing to bind {host}: the QAD sandbox serves 127.0.0.1 only.", err=True)
        raise typer.Exit(2)
    try:
        sandbox = create_qad_sandbox(
            tenants=tuple(tenant),
            seed=seed,
            token_ttl=token_ttl,
            client_id=client_id,
            username=username,
            password=password,
            context_root=context_root,
        )
    except ValueError as exc:
        typer.echo(f"Cannot start the QAD sandbox: {exc}", err=True)
        raise typer.Exit(2) from exc
    root = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    typer.echo("QAD sandbox (fake credentials; loopback only)")
    for name in sandbox.tenant_names:
        t = sandbox.tenant(name)
        t.qxtend_exposed = qxtend
        base = sandbox.base_url(root, name)
        typer.echo(f"  tenant {name}: {base}")
        if qxtend:
            typer.echo(f"    QXtend     {base}/qxi/services/QdocWebService  (WSDL: ?wsdl)")
        typer.echo(f"    client_id  {t.client_id}")
        typer.echo(f"    username   {t.username}  (read-only user: viewer)")
        typer.echo(f"    password   {t.password}")
        typer.echo(f"    domain     {t.domain}")
        typer.echo(f"    entity     {t.entity}")
        typer.echo(f"    controls   {base}/_sandbox/ (no token, not counted in stats)")
        for path, what in CONTROL_ENDPOINTS:
            typer.echo(f"      {path:<10} {what}")
    run(sandbox.app, host=host, port=port)


#: The test controls each tenant serves under ``/_sandbox/``, as the banner lists them.
CONTROL_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("state", "GET: suppliers, POs, receipts, invoices as the tenant holds them"),
    ("stats", "GET: calls by path and status, tokens issued, faults injected"),
    ("journal", "GET: every write in order"),
    ("faults", "GET/POST: read or set fault rates and quirks"),
    ("items", "POST: add an item (as if keyed in QAD)"),
    ("accounts", "POST: add a GL account"),
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RedactSecrets(logging.Filter):
    """Masks passwords and tokens that clients put in query strings out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def run(app: Any, *, host: str, port: int) -> None:
    """Serve until interrupted (tests replace this)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=SERVER_HTTP,
        loop=SERVER_LOOP,
        lifespan="off",
        log_level="info",
    )
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    uvicorn.Server(config).run()
