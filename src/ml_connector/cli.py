"""The `ml-connector` command line: one Typer app, one error boundary.

Each command only declares its options and hands over to `commands.py` through
:func:`ml_connector.console.run`, which maps exceptions to the exit codes in README:
0 ok, 1 records failed or blocked, 2 usage or configuration, 3 credentials refused,
4 a remote unavailable.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from ml_connector import commands
from ml_connector import demo as demo_flow
from ml_connector.console import error_boundary, run
from ml_connector.errors import ConfigError
from ml_connector.sandbox.cin7.cli import serve_cin7
from ml_connector.sandbox.qad.cli import serve_qad
from ml_connector.store.models import DEFAULT_CIN7_BASE_URL
from ml_connector.user_commands import user_app
from ml_connector.vocab import MappingKind, RecordKind, RecordStatus

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Cin7 Core purchasing into QAD Adaptive ERP, exactly once.",
)
sandbox_app = typer.Typer(
    no_args_is_help=True, help="Serve the local Cin7 Core and QAD simulators."
)
app.add_typer(sandbox_app, name="sandbox")
sandbox_app.command("cin7")(serve_cin7)
sandbox_app.command("qad")(serve_qad)

db_app = typer.Typer(no_args_is_help=True, help="The database (SQLite in the home, or PostgreSQL).")
keys_app = typer.Typer(no_args_is_help=True, help="The master key that encrypts credentials.")
connection_app = typer.Typer(
    no_args_is_help=True, help="Connections: one Cin7 Core account paired with one QAD tenant."
)
mapping_app = typer.Typer(
    no_args_is_help=True,
    help="Cross-references: accounts, items, suppliers, locations, terms, tax rules, currencies.",
)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(connection_app, name="connection")
app.add_typer(mapping_app, name="mapping")
app.add_typer(user_app, name="user")

Name = Annotated[str, typer.Argument(help="The connection's name.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]

APPLICATION_KEY_ENV = "ML_CONNECTOR_CIN7_APPLICATION_KEY"
QAD_PASSWORD_ENV = "ML_CONNECTOR_QAD_PASSWORD"


class _StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _configure_logging(verbose: bool) -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    level = logging.INFO if verbose else logging.WARNING
    handler.setLevel(level)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log retries and HTTP requests to stderr.")
    ] = False,
) -> None:
    """Cin7 Core purchasing into QAD Adaptive ERP, exactly once.

    Data lives in ML_CONNECTOR_HOME (default ~/.ml-connector); ML_CONNECTOR_DATABASE_URL selects
    PostgreSQL; ML_CONNECTOR_MASTER_KEY overrides the key file. Exit codes: 0 ok, 1 records
    failed or blocked, 2 usage or configuration, 3 credentials refused, 4 a remote unavailable.
    """
    _configure_logging(verbose)


# --- db, keys -----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (also done automatically on start)."""
    run(commands.db_upgrade)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored credential under a new master key.

    With the key file, the file is replaced. With ML_CONNECTOR_MASTER_KEY, the new key is
    printed once (and nowhere else, ever): set the variable to it before the next command.
    """
    run(commands.keys_rotate)


# --- connection -----------------------------------------------------------------------------------


def _secret(value: str | None, prompt: str, option: str, env: str) -> str:
    if value:
        return value
    try:
        entered: str = typer.prompt(prompt, hide_input=True)
    except typer.Abort:
        raise ConfigError(
            f"{option} is missing: pass it, set {env}, or type it when asked"
        ) from None
    return entered


@connection_app.command("add")
def connection_add(
    name: Name,
    cin7_account_id: Annotated[str, typer.Option(help="Cin7 Core API account ID.")],
    qad_url: Annotated[
        str, typer.Option(help="QAD tenant base URL with context root (https://…/clouderp).")
    ],
    qad_client_id: Annotated[str, typer.Option(help="QAD OAuth client ID.")],
    qad_username: Annotated[str, typer.Option(help="QAD integration user.")],
    qad_domain: Annotated[str, typer.Option(help="QAD domain code.")],
    qad_entity: Annotated[str, typer.Option(help="QAD entity code.")],
    cin7_application_key: Annotated[
        str | None,
        typer.Option(
            envvar=APPLICATION_KEY_ENV,
            show_default=False,
            help="Cin7 Core API application key (prompted for when missing).",
        ),
    ] = None,
    qad_password: Annotated[
        str | None,
        typer.Option(
            envvar=QAD_PASSWORD_ENV,
            show_default=False,
            help="QAD user's password (prompted for when missing).",
        ),
    ] = None,
    cin7_base_url: Annotated[
        str, typer.Option(help="Cin7 Core API base URL.")
    ] = DEFAULT_CIN7_BASE_URL,
    qad_site: Annotated[str | None, typer.Option(help="Default QAD site.")] = None,
    qad_supplier_shared_set: Annotated[
        str | None, typer.Option(help="QAD supplier shared set (default: the domain).")
    ] = None,
    qad_daybook: Annotated[
        str | None, typer.Option(help="QAD daybook for supplier invoices (default SUPINV).")
    ] = None,
    allow_local: Annotated[
        bool,
        typer.Option(
            "--allow-local",
            help="Allow local/private and http:// URLs (sandboxes, on-premise trials).",
        ),
    ] = False,
    schedule: Annotated[
        str | None, typer.Option(help='How often to sync, e.g. "every 15m".')
    ] = None,
    create_missing_items: Annotated[
        bool,
        typer.Option(
            "--create-missing-items",
            help="Create QAD items for Cin7 products with no item mapping.",
        ),
    ] = False,
    cin7_rate_limit: Annotated[
        int | None,
        typer.Option(min=1, help="Cin7 calls per 60 s for this key (default 60, Cin7's limit)."),
    ] = None,
) -> None:
    """Add a connection. Secrets are encrypted at rest and never shown again.

    The application key and password may come from the options, from the environment
    (ML_CONNECTOR_CIN7_APPLICATION_KEY, ML_CONNECTOR_QAD_PASSWORD), or a hidden prompt.
    The QAD URL must be https and public unless --allow-local.
    """
    with error_boundary():
        commands.check_targets(qad_url, cin7_base_url, allow_local, schedule)
        options: dict[str, object] = {}
        if create_missing_items:
            options["create_missing_items"] = True
        if cin7_rate_limit is not None:
            options["cin7_rate_limit"] = cin7_rate_limit
        config = commands.build_connection(
            name=name,
            cin7_account_id=cin7_account_id,
            cin7_application_key=_secret(
                cin7_application_key,
                "Cin7 application key",
                "--cin7-application-key",
                APPLICATION_KEY_ENV,
            ),
            cin7_base_url=cin7_base_url,
            qad_base_url=qad_url,
            qad_client_id=qad_client_id,
            qad_username=qad_username,
            qad_password=_secret(qad_password, "QAD password", "--qad-password", QAD_PASSWORD_ENV),
            qad_domain=qad_domain,
            qad_entity=qad_entity,
            qad_site=qad_site,
            qad_supplier_shared_set=qad_supplier_shared_set,
            qad_daybook=qad_daybook,
            allow_local=allow_local,
            schedule=schedule,
            options=options,
        )
    run(lambda: commands.connection_add(config))


@connection_app.command("list")
def connection_list(as_json: Json = False) -> None:
    """List the connections and their health."""
    run(lambda: commands.connection_list(as_json))


@connection_app.command("show")
def connection_show(name: Name, as_json: Json = False) -> None:
    """Show a connection's settings (secrets show as "stored, encrypted")."""
    run(lambda: commands.connection_show(name, as_json))


@connection_app.command("test")
def connection_test(name: Name, as_json: Json = False) -> None:
    """Ping Cin7 Core and QAD and say which side fails and why.

    Exit 3 for refused credentials or a missing permission, 2 for a wrong tenant URL,
    4 when a system cannot be reached.
    """
    run(lambda: commands.connection_test(name, as_json))


@connection_app.command("remove")
def connection_remove(
    name: Name,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a connection and everything recorded for it (records, audit trail, mappings)."""
    if not yes:
        try:
            sure = typer.confirm(
                f"Remove connection {name} and its records, mappings and audit trail?",
                default=False,
            )
        except typer.Abort:
            sure = False
        if not sure:
            typer.echo("Not removed (confirm, or pass --yes).", err=True)
            raise typer.Exit(2)
    run(lambda: commands.connection_remove(name))


# --- mapping --------------------------------------------------------------------------------------

Kind = Annotated[MappingKind, typer.Argument(help="What is mapped.", show_default=False)]


@mapping_app.command("suggest")
def mapping_suggest(
    name: Name,
    apply: Annotated[
        bool, typer.Option("--apply", help="Store the suggestions (mappings set by hand are kept).")
    ] = False,
    as_json: Json = False,
) -> None:
    """Read both systems' reference data and suggest cross-references.

    Exact codes first, then normalised codes, then normalised names. Unmatched suppliers are
    created in QAD unless mapped; other unmatched values block the documents that use them.
    """
    run(lambda: commands.mapping_suggest(name, apply, as_json))


@mapping_app.command("list")
def mapping_list(
    name: Name,
    kind: Annotated[MappingKind | None, typer.Option(help="Only this kind.")] = None,
    as_json: Json = False,
) -> None:
    """List the stored cross-references."""
    run(lambda: commands.mapping_list(name, kind, as_json))


@mapping_app.command("set")
def mapping_set(
    name: Name,
    kind: Kind,
    cin7_value: Annotated[
        str,
        typer.Argument(
            help="Cin7 code, SKU or name; for suppliers the SupplierID (or, once synced, the name)."
        ),
    ],
    qad_value: Annotated[str, typer.Argument(help="QAD code.")],
) -> None:
    """Map one Cin7 value to a QAD code (replaces an existing mapping)."""
    run(lambda: commands.mapping_set(name, kind, cin7_value, qad_value))


@mapping_app.command("remove")
def mapping_remove(
    name: Name,
    kind: Kind,
    cin7_value: Annotated[str, typer.Argument(help="The Cin7 value whose mapping goes.")],
) -> None:
    """Remove one cross-reference."""
    run(lambda: commands.mapping_remove(name, kind, cin7_value))


@mapping_app.command("import")
def mapping_import(
    name: Name,
    file: Annotated[Path, typer.Argument(help="CSV with kind,cin7_value,qad_value[,source,…].")],
) -> None:
    """Import cross-references from CSV (rows replace existing mappings of the same value)."""
    run(lambda: commands.mapping_import(name, file))


@mapping_app.command("export")
def mapping_export(
    name: Name,
    file: Annotated[
        Path | None, typer.Argument(help="Where to write the CSV (default: stdout).")
    ] = None,
    kind: Annotated[MappingKind | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """Export cross-references as CSV."""
    run(lambda: commands.mapping_export(name, file, kind))


# --- sync, replay -------------------------------------------------------------------------------


@app.command("sync")
def sync(
    name: Name,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be posted; post nothing, move no cursor."),
    ] = False,
    as_json: Json = False,
) -> None:
    """Run one sync pass: poll Cin7, plan, post to QAD, release held invoices.

    Progress bars on stderr when it is a terminal. Exit 1 when any record failed or is blocked.
    """
    run(lambda: commands.sync(name, dry_run, as_json))


@app.command("run")
def run_scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="Sync what is due now, then exit (for cron).")
    ] = False,
) -> None:
    """Sync every connection on its own schedule (`--schedule "every 15m"`), until stopped.

    Connections without a schedule are left to `ml-connector sync`; a connection whose
    credentials were refused is skipped until `connection test` passes again.
    """
    run(lambda: commands.run_scheduler(once))


@app.command("replay")
def replay(
    name: Name,
    references: Annotated[
        list[str] | None,
        typer.Argument(
            help="Purchases to replay (PO-00412 or purchase:PO-00412).", show_default=False
        ),
    ] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Replay every failed purchase.")] = False,
    blocked: Annotated[
        bool, typer.Option("--blocked", help="Replay every blocked purchase.")
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(help="Who replays, for the audit trail (default replay:<OS user>)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Re-run records from their stored snapshots, without calling Cin7.

    Fix the cause first (a mapping, a QAD setting), then replay. Exit 1 when any record still
    fails or is blocked.
    """
    run(lambda: commands.replay(name, references or [], failed, blocked, actor, as_json))


# --- what happened ----------------------------------------------------------------------------


@app.command("records")
def records(
    name: Name,
    status: Annotated[RecordStatus | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[RecordKind, typer.Option(help="Record kind.")] = "purchase",
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: all).")] = 200,
    as_json: Json = False,
) -> None:
    """List records with their status and reason, oldest status change first."""
    run(lambda: commands.records(name, status, kind, limit, as_json))


@app.command("holds")
def holds(name: Name, as_json: Json = False) -> None:
    """Held invoices: how long they have waited and which receipt quantities are missing."""
    run(lambda: commands.holds(name, as_json))


@app.command("reconcile")
def reconcile(
    name: Name,
    month: Annotated[
        str | None, typer.Option(metavar="YYYY-MM", help="Only purchases ordered this month.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Month-end view per supplier and currency: invoiced in Cin7, posted to QAD, held,
    received value; with a totals row per currency."""
    run(lambda: commands.reconcile(name, month, as_json))


@app.command("audit")
def audit(
    first: Annotated[
        str, typer.Argument(metavar="NAME|verify", help="The connection, or the word verify.")
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="REFERENCE|NAME",
            help="The record (PO-00412 or purchase:PO-00412), or after verify the connection.",
            show_default=False,
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the chain of connection NAME.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Show a record's audit trail, or check a connection's hash chain.

    `audit NAME REFERENCE` shows the trail; `audit verify NAME` (or `audit NAME --verify`)
    checks every link and exits 1 listing the broken ones.
    """
    if verify:
        if second is not None:
            raise typer.BadParameter("--verify takes only the connection name")
        run(lambda: commands.audit_verify(first, as_json))
    elif first == "verify" and second is not None:
        run(lambda: commands.audit_verify(second, as_json))
    elif second is None:
        raise typer.BadParameter("give the connection and the record: audit NAME REFERENCE")
    else:
        run(lambda: commands.audit_show(first, second, as_json))


# --- the console --------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8700,
    behind_https: Annotated[
        bool,
        typer.Option(
            "--behind-https",
            help="A TLS proxy fronts the console: mark cookies Secure.",
        ),
    ] = False,
    metrics_token: Annotated[
        str | None,
        typer.Option(
            envvar="ML_CONNECTOR_METRICS_TOKEN",
            show_default=False,
            help="Require 'Authorization: Bearer TOKEN' on /metrics (default: public).",
        ),
    ] = None,
) -> None:
    """Serve the operator console: overview, runs, records, error queue, metrics, health.

    Sign in with a user from `ml-connector user add`. /healthz, /readyz, /metrics and
    /openapi.json answer without sign-in.
    """
    from ml_connector.web.commands import serve as serve_console  # the web stack loads only here

    run(lambda: serve_console(host, port, behind_https, metrics_token))


# --- demo ---------------------------------------------------------------------------------------


@app.command("demo")
def demo(
    as_json: Json = False,
    realistic_rate_limit: Annotated[
        bool,
        typer.Option(
            "--realistic-rate-limit",
            help="Keep Cin7's real 60 calls/min (slower; fewer purchases by default).",
        ),
    ] = False,
    purchases: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Purchases in the Cin7 sandbox (default {demo_flow.DEFAULT_PURCHASES}, "
            f"or {demo_flow.REALISTIC_PURCHASES} with --realistic-rate-limit).",
            show_default=False,
        ),
    ] = None,
    keep_home: Annotated[
        bool,
        typer.Option(
            "--keep-home", help="Keep the temporary home (database, key file) afterwards."
        ),
    ] = False,
) -> None:
    """Both sandboxes in-process, a temporary home, mapping, sync, receive, sync again.

    Never touches your own home or database.
    """
    options = demo_flow.DemoOptions(
        purchases=purchases, realistic_rate_limit=realistic_rate_limit, keep_home=keep_home
    )
    run(lambda: demo_flow.demo_command(options, as_json))


def main() -> None:
    app()
