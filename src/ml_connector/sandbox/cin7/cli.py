"""`ml-connector sandbox cin7`: serve the Cin7 Core sandbox with uvicorn on a loopback address."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer
import uvicorn

from ml_connector.sandbox import SERVER_HTTP, SERVER_LOOP
from ml_connector.sandbox.cin7 import create_cin7_sandbox

_LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`: the only addresses the sandbox binds."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_cin7(
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8701,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
    suppliers: Annotated[int, typer.Option(help="Number of suppliers to generate.")] = 40,
    purchases: Annotated[int, typer.Option(help="Number of purchases to generate.")] = 300,
    account_id: Annotated[
        str | None, typer.Option(help="Account ID to accept (default: derived from the seed).")
    ] = None,
    application_key: Annotated[
        str | None,
        typer.Option(help="Application key to accept (default: derived from the seed)."),
    ] = None,
    rate_limit: Annotated[
        int, typer.Option(min=1, help="Calls per rolling window per application key.")
    ] = 60,
    rate_limit_status: Annotated[
        int, typer.Option(help="Status when over the limit: 429, or 503 (the older behaviour).")
    ] = 429,
    rate_window: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds of the rolling window (Cin7's 60; shorter in tests)."),
    ] = 60.0,
    also_key: Annotated[
        list[str] | None,
        typer.Option(
            "--also-key", help="Another application key on the account (own budget); repeatable."
        ),
    ] = None,
) -> None:
    """Serve the Cin7 Core sandbox (seeded data, Cin7's rules, rate limit and quirks)."""
    if not is_loopback(host):
        typer.echo(
            f"Refusing to bind {host}: the sandbox serves loopback addresses only.", err=True
        )
        raise typer.Exit(2)
    if rate_limit_status not in (429, 503):
        typer.echo("--rate-limit-status must be 429 or 503.", err=True)
        raise typer.Exit(2)
    sandbox = create_cin7_sandbox(
        seed=seed,
        suppliers=suppliers,
        purchases=purchases,
        account_id=account_id,
        application_key=application_key,
        rate_limit=rate_limit,
        rate_limit_status=rate_limit_status,
        rate_window=rate_window,
        extra_application_keys=tuple(also_key or ()),
    )
    shown = f"[{host}]" if ":" in host else host
    # These are sandbox fakes, so printing them is what the user needs.
    typer.echo(f"Cin7 Core sandbox: http://{shown}:{port}/ExternalApi/v2/")
    typer.echo(f"  api-auth-accountid:      {sandbox.account_id}")
    typer.echo(f"  api-auth-applicationkey: {sandbox.application_key}")
    typer.echo(
        f"  {len(sandbox.state.suppliers)} suppliers, {len(sandbox.state.purchases)} purchases, "
        f"{rate_limit} calls per {rate_window:g} s; test controls under /_sandbox/"
    )
    uvicorn.run(
        sandbox.app,
        host=host.strip("[]"),
        port=port,
        http=SERVER_HTTP,
        loop=SERVER_LOOP,
        lifespan="off",
        log_level="info",
    )
