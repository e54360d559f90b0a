"""The `ml-connector` command line: one Typer app, one error boundary.

Each command declares its options, calls one use case (:mod:`ml_connector.usecases`) and renders
the result with :mod:`ml_connector.cli.views`. It runs through :func:`ml_connector.cli.console
.run`, which maps exceptions to the exit codes in README: 0 ok, 1 records failed or blocked,
2 usage or configuration, 3 credentials refused, 4 a remote unavailable, 5 the connection is
being synced by another process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import RenderableType

from ml_connector import demo as demo_flow
from ml_connector import usecases
from ml_connector.cli import views
from ml_connector.cli.alerts import alert_app
from ml_connector.cli.console import (
    EXIT_OK,
    EXIT_RECORDS,
    connection_test_exit_code,
    emit,
    emit_json,
    emit_text,
    error_boundary,
    pass_exit_code,
    progress_bars,
    run,
    run_until_stopped,
    say,
)
from ml_connector.cli.entry import RootGroup
from ml_connector.cli.jobs import Queue, queue_pass, scheduler, worker
from ml_connector.cli.logs import (
    ON_STDERR,
    command_log,
    report_turn,
    shown_on_stderr,
    stamp,
    stop_reporter,
)
from ml_connector.cli.users import user_app
from ml_connector.connection import SETTINGS, ConnectionConfig
from ml_connector.errors import ConfigError
from ml_connector.qad.profile import load_profile
from ml_connector.runner import look_once, run_forever
from ml_connector.sandbox.cin7.cli import serve_cin7
from ml_connector.sandbox.qad.cli import serve_qad
from ml_connector.settings import AppSettings, load_settings
from ml_connector.store.models import DEFAULT_CIN7_BASE_URL
from ml_connector.usecases import open_store
from ml_connector.usecases.fit import fit_connection
from ml_connector.usecases.mappings import report_alignment
from ml_connector.usecases.overview import overview
from ml_connector.usecases.runs import run_history
from ml_connector.vocab import MappingKind, RecordKind, RecordStatus

app = typer.Typer(
    cls=RootGroup,
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
app.add_typer(alert_app, name="alert")

Name = Annotated[str, typer.Argument(help="The connection's name.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="When another process is syncing this connection, wait this long for it "
        "(default 0: exit 5 at once).",
    ),
]

APPLICATION_KEY_ENV = "ML_CONNECTOR_CIN7_APPLICATION_KEY"
QAD_PASSWORD_ENV = "ML_CONNECTOR_QAD_PASSWORD"


def _show(
    doc: Mapping[str, Any],
    render: Callable[[Mapping[str, Any]], RenderableType | list[RenderableType]],
    as_json: bool,
) -> None:
    """One JSON document, or the document's tables."""
    if as_json:
        emit_json(doc)
        return
    shown = render(doc)
    emit(*(shown if isinstance(shown, list) else [shown]))


def _say_lines(
    doc: Mapping[str, Any], render: Callable[[Mapping[str, Any]], list[str]], as_json: bool
) -> None:
    """One JSON document, or the document as plain lines."""
    if as_json:
        emit_json(doc)
        return
    for line in render(doc):
        say(line)


class _StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it), leaving out
    records that repeat a line the command printed there itself."""

    def emit(self, record: logging.LogRecord) -> None:
        if shown_on_stderr(record):
            return
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
    failed or blocked, 2 usage or configuration, 3 credentials refused, 4 a remote unavailable,
    5 another process is syncing the connection.
    """
    _configure_logging(verbose)


# --- db, keys -----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (also done automatically on start).

    On PostgreSQL also the job queue's schema (Procrastinate), for `worker` and `scheduler`.
    Running it again changes nothing.
    """

    async def main() -> int:
        state = await usecases.upgrade_database(load_settings())
        say(f"Database {state.url} is up to date (revision {state.revision}).")
        if state.job_queue:
            say(state.job_queue[0].upper() + state.job_queue[1:] + ".")
        return EXIT_OK

    run(main)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored credential under a new master key.

    With the key file, the file is replaced. With ML_CONNECTOR_MASTER_KEY, the new key is
    printed once (and nowhere else, ever): set the variable to it before the next command.
    """

    def show_new_key(key: str) -> None:
        say("New master key (shown this once, stored nowhere):")
        say(key)
        say(
            "Set ML_CONNECTOR_MASTER_KEY to it before running ml-connector again; "
            "until you do, stored credentials cannot be decrypted."
        )

    async def main() -> int:
        result = await usecases.rotate_keys(load_settings(), show_new_key=show_new_key)
        if result.key_file is None:
            say(f"Re-encrypted {result.reencrypted} stored secrets under the new key.")
        else:
            say(
                f"Re-encrypted {result.reencrypted} stored secrets under a new master key "
                f"in {result.key_file}."
            )
        return EXIT_OK

    run(main)


# --- connection -----------------------------------------------------------------------------------


def _secret(prompt: str, option: str, env: str) -> str:
    """A secret typed at a hidden prompt (ConfigError when there is nobody to type it)."""
    try:
        entered: str = typer.prompt(prompt, hide_input=True)
    except typer.Abort:
        raise ConfigError(
            f"{option} is missing: pass it, set {env}, or type it when asked"
        ) from None
    return entered


_SECRET_SOURCES = {
    "cin7_application_key": APPLICATION_KEY_ENV,
    "qad_password": QAD_PASSWORD_ENV,
}


def _secrets_from_files(
    given: Mapping[str, Any], files: Mapping[str, Path | None], warnings: list[str]
) -> dict[str, str]:
    """Secrets read from their `--…-file` options; `warnings` gets one line for each secret
    that arrived as a plain flag (it shows in `ps` and the shell history), printed on stderr
    once the command has used it."""
    read: dict[str, str] = {}
    for setting, env in _SECRET_SOURCES.items():
        option = "--" + setting.replace("_", "-")
        path = files.get(setting)
        if path is not None:
            if given.get(setting) and os.environ.get(env) != given[setting]:
                raise ConfigError(f"give {option} or {option}-file, not both")
            read[setting] = _read_secret_file(path, f"{option}-file")
        elif given.get(setting) and os.environ.get(env) != given[setting]:
            warnings.append(
                f"warning: {option} on the command line is visible to other users in the "
                f"process list; prefer {option}-file, {env} or the prompt"
            )
    return read


def _read_secret_file(path: Path, option: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    secret = text.strip("\r\n")
    if not secret:
        raise ConfigError(f"{option}: {path} is empty")
    return secret


def _connection_command(adding: bool) -> Callable[..., None]:
    """`connection add` and `connection edit`: one set of flags, declared here once.

    Adding needs the account, tenant and login flags and asks for missing secrets; editing
    changes only what is given (secrets too, from a flag or the environment) and keeps the rest,
    the records, the audit trail and the mappings. An empty value clears an optional setting.
    """

    def command(
        name: Name,
        cin7_account_id: Annotated[
            str | None, typer.Option(help="Cin7 Core API account ID.", show_default=False)
        ] = None,
        cin7_application_key: Annotated[
            str | None,
            typer.Option(
                envvar=APPLICATION_KEY_ENV,
                show_default=False,
                help="Cin7 Core API application key (add: prompted for when missing).",
            ),
        ] = None,
        cin7_base_url: Annotated[
            str | None,
            typer.Option(
                help=f"Cin7 Core API base URL (default {DEFAULT_CIN7_BASE_URL}).",
                show_default=False,
            ),
        ] = None,
        qad_url: Annotated[
            str | None,
            typer.Option(
                help="QAD tenant base URL with context root (https://…/clouderp).",
                show_default=False,
            ),
        ] = None,
        qad_client_id: Annotated[
            str | None, typer.Option(help="QAD OAuth client ID.", show_default=False)
        ] = None,
        qad_username: Annotated[
            str | None, typer.Option(help="QAD integration user.", show_default=False)
        ] = None,
        qad_password: Annotated[
            str | None,
            typer.Option(
                envvar=QAD_PASSWORD_ENV,
                show_default=False,
                help="QAD user's password (add: prompted for when missing).",
            ),
        ] = None,
        qad_domain: Annotated[
            str | None, typer.Option(help="QAD domain code.", show_default=False)
        ] = None,
        qad_entity: Annotated[
            str | None, typer.Option(help="QAD entity code.", show_default=False)
        ] = None,
        qad_site: Annotated[
            str | None, typer.Option(help="Default QAD site.", show_default=False)
        ] = None,
        qad_supplier_shared_set: Annotated[
            str | None,
            typer.Option(help="QAD supplier shared set (default: the domain).", show_default=False),
        ] = None,
        qad_daybook: Annotated[
            str | None,
            typer.Option(
                help="QAD daybook for supplier invoices (default SUPINV).", show_default=False
            ),
        ] = None,
        qad_invoice_status: Annotated[
            str | None,
            typer.Option(
                help="QAD invoice status supplier invoices post with (default AP-INITIAL, "
                "payment locked until QAD's receiver matching finishes them).",
                show_default=False,
            ),
        ] = None,
        qad_profile: Annotated[
            str | None,
            typer.Option(
                help="QAD tenant profile: rest (default), qxtend, mixed, or a TOML file "
                "(see `connection fit`).",
                show_default=False,
            ),
        ] = None,
        allow_local: Annotated[
            bool | None,
            typer.Option(
                "--allow-local/--no-allow-local",
                help="Allow local/private and http:// URLs (sandboxes, on-premise trials).",
                show_default=False,
            ),
        ] = None,
        schedule: Annotated[
            str | None,
            typer.Option(
                help='When to sync: "every 15m", or cron like "*/15 6-20 * * 1-5" '
                "(README, Schedules).",
                show_default=False,
            ),
        ] = None,
        timezone: Annotated[
            str | None,
            typer.Option(
                metavar="ZONE",
                help="IANA time zone a cron schedule is read in, e.g. Europe/Berlin (default UTC).",
                show_default=False,
            ),
        ] = None,
        create_missing_items: Annotated[
            bool | None,
            typer.Option(
                "--create-missing-items/--no-create-missing-items",
                help="Create QAD items for Cin7 products with no item mapping.",
                show_default=False,
            ),
        ] = None,
        item_gl_account: Annotated[
            str | None,
            typer.Option(help="QAD GL account for items created in QAD.", show_default=False),
        ] = None,
        default_credit_terms: Annotated[
            str | None,
            typer.Option(
                help="QAD credit terms for new suppliers without a Cin7 payment term.",
                show_default=False,
            ),
        ] = None,
        cin7_rate_limit: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="Cin7 calls per 60 s for this key (default 60, Cin7's limit).",
                show_default=False,
            ),
        ] = None,
        cin7_timeout: Annotated[
            float | None,
            typer.Option(
                min=0.1, help="Seconds to wait for Cin7 (default 30).", show_default=False
            ),
        ] = None,
        qad_timeout: Annotated[
            float | None,
            typer.Option(min=0.1, help="Seconds to wait for QAD (default 30).", show_default=False),
        ] = None,
        over_receipt_pct: Annotated[
            str | None,
            typer.Option(
                metavar="PERCENT",
                help="How far Cin7 may receive more than ordered before a purchase needs "
                "attention, in percent (default 0).",
                show_default=False,
            ),
        ] = None,
        price_tolerance_pct: Annotated[
            str | None,
            typer.Option(
                metavar="PERCENT",
                help="How far an invoice price may be from the PO price, in percent (default 0).",
                show_default=False,
            ),
        ] = None,
        price_tolerance_amount: Annotated[
            str | None,
            typer.Option(
                metavar="AMOUNT",
                help="How far an invoice price may be from the PO price, in currency a "
                "unit (default 0; the more lenient of the two tolerances applies).",
                show_default=False,
            ),
        ] = None,
        rounding: Annotated[
            Literal["half-up", "half-even", "half-down"] | None,
            typer.Option(
                help="How amounts round to their currency's decimals (default half-up).",
                show_default=False,
            ),
        ] = None,
        cin7_application_key_file: Annotated[
            Path | None,
            typer.Option(
                show_default=False,
                help="Read the Cin7 application key from this file (keeps it out of `ps`).",
            ),
        ] = None,
        qad_password_file: Annotated[
            Path | None,
            typer.Option(
                show_default=False,
                help="Read the QAD password from this file (keeps it out of `ps`).",
            ),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option(
                metavar="YYYY-MM-DD",
                show_default=False,
                help="Cut-over date: purchases ordered before it create nothing in QAD "
                "(README, Going live); an empty value removes it.",
            ),
        ] = None,
        adopt_existing: Annotated[
            bool | None,
            typer.Option(
                "--adopt-existing/--no-adopt-existing",
                show_default=False,
                help="Look for documents finance keyed in QAD before creating them (default on).",
            ),
        ] = None,
    ) -> None:
        flags = dict(locals())
        given: dict[str, Any] = {
            key: (value or None) if isinstance(value, str) else value
            for key, value in flags.items()
            if (key in SETTINGS or key == "allow_local") and value is not None
        }
        if given.get("qad_profile"):
            # Read here, once: a file's settings are stored with the connection, not its path.
            with error_boundary():
                given["qad_profile"] = load_profile(given["qad_profile"])

        async def main() -> int:
            warnings: list[str] = []
            given.update(
                _secrets_from_files(
                    given,
                    {
                        "cin7_application_key": cin7_application_key_file,
                        "qad_password": qad_password_file,
                    },
                    warnings,
                )
            )
            if adding:
                config = _new_connection(name, given)
                async with open_store() as store:
                    stored = await usecases.add_connection(store, config)
                say(
                    f"Added connection {stored.name} (credentials stored encrypted). "
                    f"Check it with `ml-connector connection test {stored.name}`."
                )
            else:
                async with open_store() as store:
                    changed = await usecases.edit_connection(store, name, given)
                say(
                    f"Changed {', '.join(changed.settings) or 'nothing'} of connection {name}; "
                    "its records, audit trail and mappings are kept."
                )
            for warning in warnings:
                say(warning, err=True)
            return EXIT_OK

        run(main)

    return command


def _new_connection(name: str, given: dict[str, Any]) -> ConnectionConfig:
    """A new connection from the flags: URLs and schedule checked before any secret is asked."""
    missing = [key for key in _REQUIRED if not given.get(key)]
    if missing:
        raise ConfigError(
            "to add a connection give " + ", ".join("--" + k.replace("_", "-") for k in missing)
        )
    usecases.check_targets(
        given["qad_url"],
        given.get("cin7_base_url") or DEFAULT_CIN7_BASE_URL,
        bool(given.get("allow_local")),
        given.get("schedule"),
        given.get("timezone"),
        given.get("qad_profile"),
    )
    for setting, prompt, env in (
        ("cin7_application_key", "Cin7 application key", APPLICATION_KEY_ENV),
        ("qad_password", "QAD password", QAD_PASSWORD_ENV),
    ):
        if not given.get(setting):
            given[setting] = _secret(prompt, "--" + setting.replace("_", "-"), env)
    return usecases.build_connection(name, given)


_REQUIRED = (
    "cin7_account_id",
    "qad_url",
    "qad_client_id",
    "qad_username",
    "qad_domain",
    "qad_entity",
)

connection_app.command(
    "add",
    help="Add a connection. Secrets are encrypted at rest and never shown again.\n\n"
    "The application key and password may come from the options, from the environment "
    "(ML_CONNECTOR_CIN7_APPLICATION_KEY, ML_CONNECTOR_QAD_PASSWORD), or a hidden prompt. "
    "The QAD URL must be https and public unless --allow-local.",
)(_connection_command(adding=True))
connection_app.command(
    "edit",
    help="Change a connection's credentials, URLs, schedule or options; what is not given "
    "stays. Records, audit trail and mappings are kept. An empty value clears an optional "
    "setting. A new key or password may come from the options or the environment.",
)(_connection_command(adding=False))


@connection_app.command("list")
def connection_list(as_json: Json = False) -> None:
    """List the connections and their health."""

    async def main() -> None:
        async with open_store() as store:
            docs = [views.connection_doc(c) for c in await usecases.list_connections(store)]
        if as_json:
            emit_json({"connections": docs})
        else:
            emit(views.connection_list_table(docs))

    run(main)


@connection_app.command("show")
def connection_show(name: Name, as_json: Json = False) -> None:
    """Show a connection's settings (secrets show as "stored, encrypted")."""

    async def main() -> None:
        async with open_store() as store:
            config = await usecases.show_connection(store, name)
        _show(views.connection_doc(config), views.connection_table, as_json)

    run(main)


@connection_app.command("test")
def connection_test(name: Name, as_json: Json = False) -> None:
    """Ping Cin7 Core and QAD and say which side fails and why.

    Exit 3 for refused credentials or a missing permission, 2 for a wrong tenant URL,
    4 when a system cannot be reached.
    """

    async def main() -> int:
        async with open_store() as store:
            result = await usecases.ping_connection(store, name)
        doc = views.test_doc(result)
        _say_lines(doc, views.test_lines, as_json)
        return connection_test_exit_code(result)

    run(main)


@connection_app.command("fit")
def connection_fit(name: Name, as_json: Json = False) -> None:
    """Probe, read-only, whether the QAD tenant fits the connection's profile.

    Token, PO write permission, each reference browse and its row keys, the receipt and invoice
    channels (REST routes or QXtend's WSDL), Cin7 and its budget: each with what was seen and
    what to change in the profile. Exit 0 when it fits, 2 when the profile needs a change,
    3 for refused credentials or permission, 4 when a system cannot be reached.
    """

    async def main() -> int:
        async with open_store() as store:
            report = await fit_connection(store, name)
        _show(views.fit_doc(report), views.fit_table, as_json)
        return report.exit_code

    run(main)


_PauseActor = Annotated[
    str | None,
    typer.Option(help="Who does it, for the connection's audit trail (default cli:<OS user>)."),
]


def _set_paused(name: str, paused: bool, actor: str | None) -> None:
    async def main() -> None:
        async with open_store() as store:
            change = await usecases.set_paused(store, name, paused, actor=actor)
        say(views.pause_line(name, change.paused, change.changed))

    run(main)


@connection_app.command("pause")
def connection_pause(name: Name, actor: _PauseActor = None) -> None:
    """Pause a connection's schedule: `run` and the scheduler leave it alone until `connection
    resume`; `sync NAME` by hand still runs. Recorded in its trail (`audit NAME connection`)."""
    _set_paused(name, True, actor)


@connection_app.command("resume")
def connection_resume(name: Name, actor: _PauseActor = None) -> None:
    """Resume a paused connection's schedule; a fire time missed while paused syncs once, now.
    Recorded in its trail (`audit NAME connection`)."""
    _set_paused(name, False, actor)


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

    async def main() -> None:
        async with open_store() as store:
            await usecases.remove_connection(store, name)
        say(f"Removed connection {name} and everything recorded for it.")

    run(main)


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

    async def main() -> None:
        async with open_store() as store:
            result = await usecases.suggest(store, name, apply=apply)
        _show(views.suggest_doc(result), views.suggest_tables, as_json)

    run(main)


@mapping_app.command("list")
def mapping_list(
    name: Name,
    kind: Annotated[MappingKind | None, typer.Option(help="Only this kind.")] = None,
    as_json: Json = False,
) -> None:
    """List the stored cross-references."""

    async def main() -> None:
        async with open_store() as store:
            result = await usecases.list_mappings(store, name, kind)
        _show(views.mappings_doc(result), views.mappings_table, as_json)

    run(main)


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

    async def main() -> None:
        async with open_store() as store:
            done = await usecases.set_mapping(store, name, kind, cin7_value, qad_value)
        say(f"Mapped {done.kind} {done.cin7_value} → {done.qad_value}.")

    run(main)


@mapping_app.command("remove")
def mapping_remove(
    name: Name,
    kind: Kind,
    cin7_value: Annotated[str, typer.Argument(help="The Cin7 value whose mapping goes.")],
) -> None:
    """Remove one cross-reference."""

    async def main() -> None:
        async with open_store() as store:
            done = await usecases.remove_mapping(store, name, kind, cin7_value)
        say(f"Removed the {done.kind} mapping of {done.cin7_value}.")

    run(main)


@mapping_app.command("import")
def mapping_import(
    name: Name,
    file: Annotated[Path, typer.Argument(help="CSV with kind,cin7_value,qad_value[,source,…].")],
) -> None:
    """Import cross-references from CSV (rows replace existing mappings of the same value)."""

    async def main() -> None:
        text = _read_text(file)
        async with open_store() as store:
            count = await usecases.import_mappings(store, name, text)
        say(f"Imported {count} mappings into {name}.")

    run(main)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None


@mapping_app.command("export")
def mapping_export(
    name: Name,
    file: Annotated[
        Path | None, typer.Argument(help="Where to write the CSV (default: stdout).")
    ] = None,
    kind: Annotated[MappingKind | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """Export cross-references as CSV."""

    async def main() -> None:
        async with open_store() as store:
            exported = await usecases.export_mappings(store, name, kind)
        if file is None:
            emit_text(exported.csv)
            return
        try:
            await asyncio.to_thread(file.write_text, exported.csv, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {file}: {exc.strerror}") from None
        say(f"Exported {exported.count} mappings to {file}.", err=True)

    run(main)


@mapping_app.command("report")
def mapping_report(
    name: Name,
    as_json: Json = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Write the report as CSV (side,kind,value) to this file."),
    ] = None,
) -> None:
    """Alignment both ways: per kind, the Cin7 values with no QAD counterpart and the QAD
    values with none in Cin7 (read-only)."""
    if as_json and csv_file is not None:
        raise typer.BadParameter("choose --json or --csv, not both")

    async def main() -> None:
        async with open_store() as store:
            result = await report_alignment(store, name)
        if csv_file is not None:
            try:
                text = views.alignment_csv(result)
                await asyncio.to_thread(csv_file.write_text, text, encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot write {csv_file}: {exc.strerror}") from None
            rows = len(result.alignment.csv_rows())
            say(f"Wrote {rows} unpaired values to {csv_file}.", err=True)
            return
        _show(views.alignment_doc(result), views.alignment_tables, as_json)

    run(main)


# --- sync, replay -------------------------------------------------------------------------------


@app.command("sync")
def sync(
    name: Name,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be posted; post nothing, move no cursor."),
    ] = False,
    wait: Wait = 0.0,
    queue: Queue = False,
    as_json: Json = False,
) -> None:
    """Run one sync pass: poll Cin7, plan, post to QAD, release held invoices.

    A paused connection syncs too when asked by hand (and says on stderr that it is paused).

    Progress bars on stderr when it is a terminal. Exit 1 when any record failed or is blocked,
    5 when another process is syncing the connection (see --wait). With --queue a worker runs
    it (see `ml-connector worker`) and this exits 0 once it is queued.
    """
    if queue:
        if dry_run:
            raise typer.BadParameter("--dry-run runs here; it cannot be queued")
        from ml_connector.jobs.asking import queue_sync

        queue_pass("sync", name, as_json, lambda settings: queue_sync(settings, name))
        return

    async def main() -> int:
        async with open_store() as store:
            with progress_bars() as bars:
                result = await usecases.sync_connection(
                    store, name, dry_run=dry_run, progress=bars, wait=wait
                )
            _show(views.run_doc(result), views.run_tables, as_json)
        if result.paused:
            say(views.paused_by_hand_line(name), err=True)
        return pass_exit_code(result)

    run(main)


@app.command("run")
def run_scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="Sync what is due now, then exit (for cron).")
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            metavar="FILE",
            dir_okay=False,
            help="Also append JSON-lines logs (one object per line) to FILE.",
        ),
    ] = None,
) -> None:
    """Sync every connection on its own schedule (`--schedule "every 15m"` or cron), until
    stopped.

    Connections without a schedule are left to `ml-connector sync`, paused ones until
    `connection resume`; a connection whose
    credentials were refused is skipped until `connection test` passes again. Ctrl-C exits 130
    and SIGTERM 143, each with one line; a pass in flight is interrupted safely and resumes on
    the next start.
    """
    log = command_log("ml_connector.run", log_file)

    def show(turn: usecases.Turn) -> None:
        report_turn(log, turn.name, turn.action, turn.detail)

    async def main() -> None:
        async with open_store() as store:
            if once:
                await look_once(store, on_turn=show)
            else:
                say(f"{stamp()} scheduler running; Ctrl+C stops it", err=True)
                log.info("scheduler running", extra=ON_STDERR)
                await run_forever(store, on_turn=show)

    after = "a pass in flight was interrupted and resumes safely on the next start"
    run_until_stopped(main, stop_reporter(log, "", after))


app.command("worker")(worker)
app.command("scheduler")(scheduler)


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
    wait: Wait = 0.0,
    queue: Queue = False,
    as_json: Json = False,
) -> None:
    """Re-run records from their stored snapshots, without calling Cin7.

    Fix the cause first (a mapping, a QAD setting), then replay. Exit 1 when any record still
    fails or is blocked. With --queue a worker runs it and this exits 0 once it is queued.
    """
    if queue:
        from ml_connector.jobs.asking import queue_replay

        queue_pass(
            "replay",
            name,
            as_json,
            lambda settings: queue_replay(
                settings, name, references or [], failed=failed, blocked=blocked, actor=actor
            ),
        )
        return

    async def main() -> int:
        async with open_store() as store:
            with progress_bars() as bars:
                result = await usecases.replay_records(
                    store,
                    name,
                    references or [],
                    failed=failed,
                    blocked=blocked,
                    actor=actor,
                    progress=bars,
                    wait=wait,
                )
        if result is None:
            say("Nothing to replay.")
            return EXIT_OK
        _show(views.run_doc(result), views.run_tables, as_json)
        return pass_exit_code(result)

    run(main)


# --- what happened ----------------------------------------------------------------------------


@app.command("golive")
def golive(
    name: Name,
    post: Annotated[
        list[str] | None,
        typer.Option(
            "--post",
            help="Post this worklist purchase (repeat the option for more).",
            show_default=False,
        ),
    ] = None,
    post_all: Annotated[
        bool, typer.Option("--all", help="Post every purchase on the worklist.")
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(help="Who decides, for the audit trail (default golive:<OS user>)."),
    ] = None,
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """The go-live worklist: purchases ordered before the cut-over with a receipt or invoice
    on or after it and no PO in QAD. Without --post/--all it only shows what each would post.
    """

    async def main() -> int:
        async with open_store() as store:
            if not post and not post_all:
                worklist = await usecases.golive_worklist(store, name)
                _show(views.golive_doc(worklist), views.golive_tables, as_json)
                return EXIT_OK
            with progress_bars():
                result = await usecases.golive_post(
                    store, name, post or [], every=post_all, actor=actor, wait=wait
                )
        if result is None:
            say("The go-live worklist is empty: nothing to post.")
            return EXIT_OK
        _show(views.run_doc(result), views.run_tables, as_json)
        return pass_exit_code(result)

    run(main)


@app.command("resync")
def resync(
    name: Name,
    from_day: Annotated[
        datetime,
        typer.Option(
            "--from",
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="List purchases changed since the start of this day (UTC) again.",
        ),
    ],
    wait: Wait = 0.0,
    as_json: Json = False,
) -> None:
    """Move the purchase cursor back (after an outage or a restore): the next sync lists that
    window again; natural keys and adoption make it post nothing twice."""

    async def main() -> int:
        async with open_store() as store:
            move = await usecases.resync_from(store, name, from_day.date(), wait=wait)
        doc = {
            "connection": move.connection,
            "before": move.before.isoformat() if move.before else None,
            "after": move.after.isoformat() if move.after else None,
            "moved": move.moved,
        }
        if as_json:
            emit_json(doc)
        elif move.moved:
            say(
                f"Purchase cursor of {name} moved back from {doc['before']} to {doc['after']}; "
                f"the next sync lists that window again."
            )
        else:
            say(f"Purchase cursor of {name} is already at {doc['before'] or 'the start'}.")
        return EXIT_OK

    run(main)


@app.command("records")
def records(
    name: Name,
    status: Annotated[RecordStatus | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[RecordKind, typer.Option(help="Record kind.")] = "purchase",
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: all).")] = 200,
    as_json: Json = False,
) -> None:
    """List records with their status and reason, oldest status change first."""

    async def main() -> None:
        async with open_store() as store:
            result = await usecases.list_records(store, name, status=status, kind=kind, limit=limit)
        _show(views.records_doc(result), views.records_tables, as_json)

    run(main)


@app.command("holds")
def holds(name: Name, as_json: Json = False) -> None:
    """Held invoices: how long they have waited and which receipt quantities are missing."""

    async def main() -> None:
        async with open_store() as store:
            result = await usecases.held_invoices(store, name)
        _show(views.holds_doc(result), views.holds_tables, as_json)

    run(main)


@app.command("status")
def status(as_json: Json = False) -> None:
    """Every connection: health, last and next run, record counts, oldest hold, Cin7 budget.

    A report: it exits 0 whatever the health it shows (use `--json` in scripts and alerts).
    """
    from ml_connector.web.views import overview_doc  # one shape for the CLI and /api/connections

    async def main() -> None:
        async with open_store() as store:
            seen = await overview(store)
        doc = {
            "now": seen.now.isoformat(),
            "connections": [overview_doc(line, seen.now) for line in seen.connections],
        }
        _show(doc, views.status_table, as_json)

    run(main)


@app.command("runs")
def runs(
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many runs.")] = 20,
    as_json: Json = False,
) -> None:
    """A connection's passes, newest first: counters, duration, calls and why each stopped."""
    from ml_connector.web.views import history_doc  # one shape for the CLI and the API

    async def main() -> None:
        async with open_store() as store:
            history = await run_history(store, name, limit=limit)
        _show(history_doc(history), views.runs_table, as_json)

    run(main)


ReconcileBy = Literal["supplier", "account", "invoice"]


@app.command("reconcile")
def reconcile(
    name: Name,
    month: Annotated[
        str | None, typer.Option(metavar="YYYY-MM", help="Only purchases ordered this month.")
    ] = None,
    by: Annotated[
        ReconcileBy,
        typer.Option(
            "--by",
            help="supplier: Cin7 against QAD per supplier and currency; account: QAD's "
            "invoices per GL account; invoice: each invoice in QAD and whether it matched.",
        ),
    ] = "supplier",
    as_json: Json = False,
) -> None:
    """Month-end view per supplier and currency: invoiced and credited in Cin7, posted to QAD,
    held, received value; with a totals row per currency. `--by account` totals what QAD holds
    per GL account; `--by invoice` lists each invoice and whether QAD reports it matched."""

    async def main() -> None:
        async with open_store() as store:
            if by == "account":
                accounts = await usecases.reconcile_accounts(store, name, month)
                doc, render = views.reconcile_accounts_doc(accounts), views.reconcile_accounts_table
            elif by == "invoice":
                invoices = await usecases.reconcile_invoices(store, name, month)
                doc, render = views.reconcile_invoices_doc(invoices), views.reconcile_invoices_table
            else:
                result = await usecases.reconcile(store, name, month)
                doc, render = views.reconcile_doc(result), views.reconcile_tables
        _show(doc, render, as_json)

    run(main)


@app.command("audit")
def audit(
    first: Annotated[
        str,
        typer.Argument(
            metavar="NAME|verify|head", help="The connection, or the word verify or head."
        ),
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="REFERENCE|NAME",
            help="The record (PO-00412 or purchase:PO-00412), or after verify/head the connection.",
            show_default=False,
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the chain of connection NAME.")
    ] = False,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            metavar="HEAD",
            show_default=False,
            help="With verify: a head kept elsewhere (COUNT:LINK, as `audit head` prints it); "
            "fewer events or another link at that point is a break.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Show a record's audit trail, check a connection's chain, or show its head.

    `audit NAME REFERENCE` shows the trail; `audit verify NAME [--expect-head HEAD]` (or `audit
    NAME --verify`) checks every link and record status and exits 1 naming each break;
    `audit head NAME` prints the chain head (event count and last link) to keep elsewhere.
    """
    if expect_head is not None and not (verify or first == "verify"):
        raise typer.BadParameter("--expect-head goes with verify: audit verify NAME --expect-head")
    if verify:
        if second is not None:
            raise typer.BadParameter("--verify takes only the connection name")
        run(lambda: _audit_verify(first, expect_head, as_json))
    elif first == "verify" and second is not None:
        run(lambda: _audit_verify(second, expect_head, as_json))
    elif first == "head" and second is not None:
        run(lambda: _audit_head(second, as_json))
    elif second is None:
        raise typer.BadParameter("give the connection and the record: audit NAME REFERENCE")
    else:
        run(lambda: _audit_show(first, second, as_json))


async def _audit_show(name: str, reference: str, as_json: bool) -> None:
    async with open_store() as store:
        result = await usecases.audit_trail(store, name, reference)
    _show(views.audit_doc(result), views.audit_tables, as_json)


async def _audit_head(name: str, as_json: bool) -> None:
    async with open_store() as store:
        result = await usecases.audit_head(store, name)
    _say_lines(views.head_doc(result), views.head_lines, as_json)


async def _audit_verify(name: str, expect_head: str | None, as_json: bool) -> int:
    async with open_store() as store:
        result = await usecases.verify_audit(store, name, expect_head)
    doc = views.verify_doc(result)
    _say_lines(doc, views.verify_lines, as_json)
    return EXIT_OK if result.intact else EXIT_RECORDS


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
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then keep the operator console running on the demo's data (Ctrl+C stops it).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="The console's port with --serve.")
    ] = 8700,
    qad_profile: Annotated[
        str,
        typer.Option(
            "--qad-profile",
            help="The QAD tenant profile: rest, qxtend, mixed, or a TOML file.",
        ),
    ] = "rest",
) -> None:
    """Both sandboxes in-process, a temporary home, mapping, sync, receive, sync again.

    Never touches your own home or database. With --serve the console stays up on the demo's
    data and prints its URL and a one-time sign-in.
    """
    with error_boundary():
        profile = load_profile(qad_profile)
    options = demo_flow.DemoOptions(
        purchases=purchases,
        realistic_rate_limit=realistic_rate_limit,
        keep_home=keep_home,
        qad_profile=profile,
    )

    def show(summary: demo_flow.DemoSummary) -> None:
        if as_json:
            emit_json(summary.to_json())
        else:
            emit(*views.demo_tables(summary))

    async def console(settings: AppSettings, summary: demo_flow.DemoSummary) -> None:
        from ml_connector.web.demo import serve_demo_console  # the web stack loads only here

        show(summary)
        await serve_demo_console(settings, port=port, say=lambda line: say(line, err=True))

    async def main() -> None:
        # Narration goes to stdout, or to stderr when stdout carries the JSON document.
        summary = await demo_flow.run_demo(
            options,
            narrate=lambda line: say(line, err=as_json),
            progress=progress_bars,
            then=console if serve else None,
        )
        if not serve:
            show(summary)

    run(main)


def main() -> None:
    app()
