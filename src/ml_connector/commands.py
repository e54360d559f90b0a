"""The work behind each ``ml-connector`` command, as async functions returning an exit code.

`cli.py` declares the options and calls these through :func:`ml_connector.console.run`, which
is the one place exceptions become exit codes. Each function opens the store from the settings
(applying migrations), does one job, and prints either Rich tables or one JSON document.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ml_connector.console import (
    EXIT_AUTH,
    EXIT_OK,
    EXIT_RECORDS,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    SyncProgress,
    emit,
    emit_json,
    emit_text,
    keep_secret,
    say,
)
from ml_connector.errors import ConfigError
from ml_connector.qad.settings import check_base_url
from ml_connector.runner import Turn, look_once, run_forever
from ml_connector.schedule import parse_schedule
from ml_connector.settings import AppSettings, load_settings, safe_url
from ml_connector.store.db import current_revision, upgrade
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.repo import Store
from ml_connector.sync.connect import check_connection, cin7_client, qad_client, qad_settings
from ml_connector.sync.engine import SyncEngine, SyncReport
from ml_connector.sync.mapping import export_csv, import_csv
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault
from ml_connector.views import (
    audit_doc,
    audit_tables,
    connection_doc,
    connection_list_table,
    connection_table,
    holds_doc,
    holds_tables,
    mappings_doc,
    mappings_table,
    reconcile_doc,
    reconcile_tables,
    records_doc,
    records_tables,
    run_doc,
    run_tables,
    suggest_doc,
    suggest_tables,
    test_doc,
    test_lines,
    verify_doc,
    verify_lines,
)
from ml_connector.vocab import RECORD_KINDS, MappingKind

# --- shared helpers ---------------------------------------------------------------------------


@asynccontextmanager
async def open_store(settings: AppSettings | None = None) -> AsyncIterator[Store]:
    """The store of these settings (default: from the environment), migrated, with its vault."""
    settings = settings or load_settings()
    vault = Vault.from_settings(settings)
    store = await Store.open(settings.database_url, vault)
    try:
        yield store
    finally:
        await store.close()


async def load_connection(store: Store, name: str) -> ConnectionConfig:
    """The named connection; its secrets are remembered so no error line can show them."""
    config = await store.get_connection(name)
    keep_secret(
        config.cin7_application_key.get_secret_value(), config.qad_password.get_secret_value()
    )
    return config


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


# --- db and keys --------------------------------------------------------------------------------


async def db_upgrade() -> int:
    settings = load_settings()
    await upgrade(settings.database_url)
    revision = await current_revision(settings.database_url)
    say(f"Database {safe_url(settings.database_url)} is up to date (revision {revision}).")
    return EXIT_OK


async def keys_rotate() -> int:
    """Re-encrypt every stored secret under a new master key.

    With a key file the file is rewritten (crash-safe, see `vault.py`). With the key in
    ``ML_CONNECTOR_MASTER_KEY`` the new key is printed once, before anything changes, because
    nothing else will ever show it.
    """
    settings = load_settings()
    vault = Vault.from_settings(settings)
    async with open_store(settings) as store:
        if vault.source == "env":
            new_key = Vault.generate_key()
            say("New master key (shown this once, stored nowhere):")
            say(new_key)
            say(
                "Set ML_CONNECTOR_MASTER_KEY to it before running ml-connector again; "
                "until you do, stored credentials cannot be decrypted."
            )
            result = await vault.rotate(store, new_key=new_key)
            say(f"Re-encrypted {result.reencrypted} stored secrets under the new key.")
        else:
            result = await vault.rotate(store)
            say(
                f"Re-encrypted {result.reencrypted} stored secrets under a new master key "
                f"in {result.key_file}."
            )
    return EXIT_OK


# --- connections ------------------------------------------------------------------------------

_OPTION_NAMES = {"qad_base_url": "--qad-url", "name": "NAME"}


def _option_name(field: str) -> str:
    return _OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


def check_targets(
    qad_url: str, cin7_base_url: str, allow_local: bool, schedule: str | None
) -> None:
    """Refuse bad URLs and schedules before anyone is asked for a secret."""
    check_base_url(qad_url, allow_local=allow_local)
    try:
        check_base_url(cin7_base_url, allow_local=allow_local)
    except ConfigError as exc:
        # One URL policy for both systems; the checker names QAD in its messages.
        raise ConfigError(str(exc).replace("QAD base URL", "Cin7 base URL")) from None
    if schedule:
        parse_schedule(schedule)


def build_connection(**fields: Any) -> ConnectionConfig:
    """A validated connection: pydantic's checks, then the QAD tenant settings (URL rules).

    Problems are reported by option name and never echo the values given.
    """
    try:
        config = ConnectionConfig(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_option_name(str(err['loc'][0]) if err['loc'] else '?')}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"connection settings refused: {problems}") from None
    qad_settings(config)
    check_targets(config.qad_base_url, config.cin7_base_url, config.allow_local, config.schedule)
    return config


async def connection_add(config: ConnectionConfig) -> int:
    keep_secret(
        config.cin7_application_key.get_secret_value(), config.qad_password.get_secret_value()
    )
    async with open_store() as store:
        stored = await store.add_connection(config)
    say(
        f"Added connection {stored.name} (credentials stored encrypted). "
        f"Check it with `ml-connector connection test {stored.name}`."
    )
    return EXIT_OK


async def connection_list(as_json: bool) -> int:
    async with open_store() as store:
        docs = [connection_doc(c) for c in await store.list_connections()]
    if as_json:
        emit_json({"connections": docs})
    else:
        emit(connection_list_table(docs))
    return EXIT_OK


async def connection_show(name: str, as_json: bool) -> int:
    async with open_store() as store:
        doc = connection_doc(await load_connection(store, name))
    if as_json:
        emit_json(doc)
    else:
        emit(connection_table(doc))
    return EXIT_OK


_PROBLEM_EXIT = {
    "credentials": EXIT_AUTH,
    "permission": EXIT_AUTH,
    "tenant-url": EXIT_USAGE,
    "config": EXIT_USAGE,
    "unreachable": EXIT_UNAVAILABLE,
    "rate-limited": EXIT_UNAVAILABLE,
}
_PRECEDENCE = (EXIT_AUTH, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_RECORDS)


async def connection_test(name: str, as_json: bool) -> int:
    """Ping both systems; exit 3 (credentials/permission), 2 (URL/config), 4 (unreachable)."""
    async with open_store() as store:
        config = await load_connection(store, name)
        verdicts = await check_connection(config)
        failures = [v for v in verdicts if not v.ok]
        assert config.id is not None
        await store.set_health(
            config.id, not failures, "; ".join(v.message for v in failures) or None
        )
    doc = test_doc(name, verdicts)
    if as_json:
        emit_json(doc)
    else:
        for line in test_lines(doc):
            say(line)
    codes = {_PROBLEM_EXIT.get(v.problem, EXIT_RECORDS) for v in failures}
    return next((code for code in _PRECEDENCE if code in codes), EXIT_OK)


async def connection_remove(name: str) -> int:
    async with open_store() as store:
        if not await store.remove_connection(name):
            raise ConfigError(f"no connection named {name!r}")
    say(f"Removed connection {name} and everything recorded for it.")
    return EXIT_OK


# --- mappings ---------------------------------------------------------------------------------


async def mapping_suggest(name: str, apply: bool, as_json: bool) -> int:
    async with open_store() as store:
        config = await load_connection(store, name)
        assert config.id is not None
        async with cin7_client(config) as cin7, qad_client(config) as qad:
            reports = await suggest_mappings(store, config.id, cin7, qad, apply=apply)
    doc = suggest_doc(name, reports, apply)
    if as_json:
        emit_json(doc)
    else:
        emit(*suggest_tables(doc))
    return EXIT_OK


async def mapping_list(name: str, kind: str | None, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        doc = mappings_doc(name, await store.list_mappings(cid, kind))
    if as_json:
        emit_json(doc)
    else:
        emit(mappings_table(doc))
    return EXIT_OK


async def _supplier_id(store: Store, cid: int, value: str) -> str:
    """Accept a Cin7 supplier's name where its SupplierID is expected."""
    named = [r for r in await store.find_records(cid, value) if r.kind == "supplier"]
    return named[0].cin7_id if len(named) == 1 else value


async def mapping_set(name: str, kind: MappingKind, cin7_value: str, qad_value: str) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        if kind == "supplier":
            cin7_value = await _supplier_id(store, cid, cin7_value)
        await store.set_mapping(cid, kind, cin7_value, qad_value, source="manual")
    say(f"Mapped {kind} {cin7_value} → {qad_value}.")
    return EXIT_OK


async def mapping_remove(name: str, kind: MappingKind, cin7_value: str) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        if kind == "supplier":
            cin7_value = await _supplier_id(store, cid, cin7_value)
        if not await store.remove_mapping(cid, kind, cin7_value):
            raise ConfigError(f"connection {name!r} has no {kind} mapping for {cin7_value!r}")
    say(f"Removed the {kind} mapping of {cin7_value}.")
    return EXIT_OK


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None


async def mapping_import(name: str, path: Path) -> int:
    rows = import_csv(_read_text(path))
    async with open_store() as store:
        cid = await store.connection_id(name)
        count = await store.import_mappings(cid, rows, overwrite=True)
    say(f"Imported {count} mappings into {name}.")
    return EXIT_OK


async def mapping_export(name: str, path: Path | None, kind: str | None) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        stored = await store.export_mappings(cid, kind)
    text = export_csv(stored)
    if path is None:
        emit_text(text)
    else:
        try:
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
        say(f"Exported {len(stored)} mappings to {path}.", err=True)
    return EXIT_OK


# --- sync and replay --------------------------------------------------------------------------


async def _run_exit(store: Store, config: ConnectionConfig, report: SyncReport) -> int:
    """3 when a remote refused us, 4 when the run stopped or records wait on an unavailable
    remote, 1 when records failed or are blocked, else 0."""
    if report.status != "succeeded":
        say(f"error: the run stopped: {report.error or report.status}", err=True)
        codes = {"auth": EXIT_AUTH, "config": EXIT_USAGE, "unavailable": EXIT_UNAVAILABLE}
        return codes.get(report.error_kind or "", EXIT_UNAVAILABLE)
    c = report.counters
    if c.retry_later:
        return EXIT_UNAVAILABLE
    return EXIT_RECORDS if (c.failed or c.blocked) else EXIT_OK


async def sync(name: str, dry_run: bool, as_json: bool) -> int:
    async with open_store() as store:
        config = await load_connection(store, name)
        started = time.monotonic()
        with SyncProgress() as bars:
            async with cin7_client(config) as cin7, qad_client(config) as qad:
                engine = SyncEngine(
                    store, config, cin7, qad, actor=f"cli:{os_user()}", progress=bars.update
                )
                report = await engine.sync(dry_run=dry_run)
        kind = "dry-run" if dry_run else "sync"
        _show_run(run_doc(name, report, time.monotonic() - started, kind=kind), as_json)
        # A dry run settles no record, so its counters never hold failed or blocked ones.
        return await _run_exit(store, config, report)


def _show_run(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(doc)
    else:
        emit(*run_tables(doc))


async def replay(
    name: str,
    references: Sequence[str],
    failed: bool,
    blocked: bool,
    actor: str | None,
    as_json: bool,
) -> int:
    """Re-run records from their stored snapshots with no Cin7 client at all."""
    if not (references or failed or blocked):
        raise ConfigError("name the records to replay, or use --failed and/or --blocked")
    async with open_store() as store:
        config = await load_connection(store, name)
        assert config.id is not None
        chosen: dict[int, Record] = {}
        for reference in references:
            record, _key = await find_record(store, config.id, reference)
            if record is None or record.kind != "purchase":
                raise ConfigError(f"connection {name!r} has no purchase {reference!r}")
            chosen[record.id] = record
        statuses = [s for s, wanted in (("failed", failed), ("blocked", blocked)) if wanted]
        if statuses:
            for record in await store.list_records(config.id, status=statuses, kind="purchase"):
                chosen.setdefault(record.id, record)
        if not chosen:
            say("Nothing to replay.")
            return EXIT_OK
        started = time.monotonic()
        with SyncProgress() as bars:
            async with qad_client(config) as qad:
                engine = SyncEngine(
                    store,
                    config,
                    None,
                    qad,
                    actor=actor or f"replay:{os_user()}",
                    progress=bars.update,
                )
                report = await engine.replay(chosen.values())
        doc = run_doc(name, report, time.monotonic() - started, kind="replay")
        doc["outcomes"] = [
            {"reference": r.reference, "status": r.status, "reason": r.reason}
            for r in sorted(
                [await store.get_record_by_id(rid) or old for rid, old in chosen.items()],
                key=lambda r: r.reference,
            )
        ]
        _show_run(doc, as_json)
        return await _run_exit(store, config, report)


# --- what happened ----------------------------------------------------------------------------


async def records(name: str, status: str | None, kind: str, limit: int, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        found = await store.list_records(
            cid, status=status, kind=kind, limit=limit + 1 if limit > 0 else None
        )
    truncated = limit > 0 and len(found) > limit
    doc = records_doc(
        name,
        found[:limit] if truncated else found,
        _now(),
        status=status,
        kind=kind,
        truncated=truncated,
    )
    if as_json:
        emit_json(doc)
    else:
        emit(records_tables(doc))
    return EXIT_OK


async def holds(name: str, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        held = await store.list_records(cid, status="held", kind="purchase")
    doc = holds_doc(name, held, _now())
    if as_json:
        emit_json(doc)
    else:
        emit(holds_tables(doc))
    return EXIT_OK


async def reconcile(name: str, month: str | None, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        lines = await store.reconcile(cid, month)
    doc = reconcile_doc(name, month, lines)
    if as_json:
        emit_json(doc)
    else:
        emit(reconcile_tables(doc))
    return EXIT_OK


async def find_record(store: Store, cid: int, reference: str) -> tuple[Record | None, str]:
    """The record named ``kind:reference`` or plain ``reference`` (purchases first), and its
    audit key (``purchase:PO-00412``) even when no record exists."""
    kind, sep, rest = reference.partition(":")
    if sep and kind in RECORD_KINDS:
        matches = [r for r in await store.find_records(cid, rest) if r.kind == kind]
        return (matches[0] if matches else None), reference
    matches = await store.find_records(cid, reference)
    if not matches and reference.upper() != reference:
        matches = await store.find_records(cid, reference.upper())
    matches.sort(key=lambda r: r.kind != "purchase")
    if matches:
        return matches[0], matches[0].key
    return None, f"purchase:{reference}"


async def audit_show(name: str, reference: str, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        record, key = await find_record(store, cid, reference)
        events = await store.trail(cid, key)
    if record is None and not events:
        raise ConfigError(f"connection {name!r} has no record {reference!r}")
    doc = audit_doc(name, record, key, events)
    if as_json:
        emit_json(doc)
    else:
        emit(audit_tables(doc))
    return EXIT_OK


async def audit_verify(name: str, as_json: bool) -> int:
    async with open_store() as store:
        cid = await store.connection_id(name)
        broken = await store.verify(cid)
    doc = verify_doc(name, broken)
    if as_json:
        emit_json(doc)
    else:
        for line in verify_lines(doc):
            say(line)
    return EXIT_RECORDS if broken else EXIT_OK


# --- the embedded scheduler -------------------------------------------------------------------


async def run_scheduler(once: bool) -> int:
    def show(turn: Turn) -> None:
        say(f"{turn.name}: {turn.action}: {turn.detail}", err=True)

    async with open_store() as store:
        if once:
            await look_once(store, on_turn=show)
        else:
            say("Scheduler running; Ctrl+C stops it.", err=True)
            await run_forever(store, on_turn=show)
    return EXIT_OK
