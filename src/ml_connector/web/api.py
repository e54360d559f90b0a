"""The JSON API under ``/api``: what the pages show, for scripts and dashboards.

Reads need any signed-in user; changes need the operator or admin role and the session's CSRF
token in the ``X-CSRF-Token`` header. Each route calls the same use case as its page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, SecretStr

from ml_connector.jobs.asking import replay_or_queue
from ml_connector.jobs.defer import Deferral
from ml_connector.schedule import DEFAULT_TIMEZONE
from ml_connector.store.models import DEFAULT_CIN7_BASE_URL
from ml_connector.usecases.choices import qad_choices
from ml_connector.usecases.connections import (
    add_connection,
    build_connection,
    edit_connection,
    ping_connection,
    show_connection,
)
from ml_connector.usecases.error_queue import error_queue
from ml_connector.usecases.fit import fit_connection
from ml_connector.usecases.holds import held_invoice_lines
from ml_connector.usecases.mappings import list_mappings, remove_mapping, set_mapping
from ml_connector.usecases.overview import overview
from ml_connector.usecases.records import parse_statuses, record_detail, search_records
from ml_connector.usecases.reports import audit_head, reconcile, verify_audit
from ml_connector.usecases.runs import run_history
from ml_connector.usecases.scheduling import set_paused
from ml_connector.usecases.triage import settle_records
from ml_connector.vocab import MappingKind
from ml_connector.web.auth import Admin, Operator, Viewer
from ml_connector.web.context import Console, console
from ml_connector.web.forms import parse_day, parse_month
from ml_connector.web.views import (
    chain_check_doc,
    connection_doc,
    detail_doc,
    head_doc,
    history_doc,
    holds_doc,
    jsonable,
    mappings_doc,
    overview_doc,
    queue_doc,
    reconcile_doc,
    record_doc,
    records_doc,
    replay_doc,
)

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["api"])

App = Annotated[Console, Depends(console)]

_UNAUTHORISED: dict[int | str, dict[str, Any]] = {401: {"description": "not signed in"}}


@router.get("/me", summary="Who is signed in", responses=_UNAUTHORISED)
async def me(who: Viewer) -> dict[str, Any]:
    return {"name": who.name, "role": who.role, "csrf_token": who.csrf_token}


@router.get(
    "/connections",
    summary="Every connection with the overview's fields",
    responses=_UNAUTHORISED,
)
async def connections(app: App, who: Viewer) -> dict[str, Any]:
    seen = await overview(app.store, now=app.clock)
    return {
        "now": seen.now.isoformat(),
        "connections": [overview_doc(line, seen.now) for line in seen.connections],
    }


@router.get("/connections/{name}/runs", summary="A connection's passes, newest first")
async def runs(app: App, who: Viewer, name: str, limit: int = 50) -> dict[str, Any]:
    return history_doc(await run_history(app.store, name, limit=limit, now=app.clock))


@router.get("/connections/{name}/records", summary="Search a connection's records")
async def records(
    app: App,
    who: Viewer,
    name: str,
    status: Annotated[list[str] | None, Query()] = None,
    supplier: str = "",
    reference: str = "",
    invoice: str = "",
    changed_from: Annotated[str, Query(alias="from")] = "",
    changed_to: Annotated[str, Query(alias="to")] = "",
    kind: Literal["purchase", "supplier"] = "purchase",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    found = await search_records(
        app.store,
        name,
        kind=kind,
        statuses=parse_statuses(status or []),
        supplier=supplier,
        reference=reference,
        invoice=invoice,
        changed_from=parse_day(changed_from, "from"),
        changed_to=parse_day(changed_to, "to"),
        limit=limit,
        offset=offset,
        now=app.clock,
    )
    return records_doc(found)


@router.get(
    "/connections/{name}/records/{record_id}",
    summary="One record: snapshots and their diff, QAD documents, audit trail",
)
async def record(
    app: App, who: Viewer, name: str, record_id: int, a: int | None = None, b: int | None = None
) -> dict[str, Any]:
    detail = await record_detail(
        app.store, name, record_id, compare=(a, b) if a and b else None, now=app.clock
    )
    doc: dict[str, Any] = jsonable(detail_doc(detail))
    return doc


@router.get("/connections/{name}/errors", summary="The error queue, grouped by what is needed")
async def errors(app: App, who: Viewer, name: str) -> dict[str, Any]:
    return queue_doc(await error_queue(app.store, name, now=app.clock))


class Settlement(BaseModel):
    """Resolve or ignore records, with a note kept in their audit trails."""

    record_ids: list[int] = Field(min_length=1)
    action: Literal["resolve", "ignore"]
    note: str = Field(min_length=1, max_length=2000)


@router.post(
    "/connections/{name}/records/settle",
    summary="Resolve or ignore records with a note (operator)",
    responses={403: {"description": "CSRF token missing, or not an operator"}},
)
async def settle(app: App, who: Operator, name: str, body: Settlement) -> dict[str, Any]:
    done = await settle_records(
        app.store, name, body.record_ids, body.action, body.note, actor=who.actor
    )
    return {
        "action": done.action,
        "settled": [record_doc(r) for r in done.settled],
        "skipped": [record_doc(r) for r in done.skipped],
    }


@router.get("/connections/{name}/holds", summary="Held invoices and what each waits for")
async def holds(app: App, who: Viewer, name: str) -> dict[str, Any]:
    return holds_doc(await held_invoice_lines(app.store, name, now=app.clock))


@router.get("/connections/{name}/reconcile", summary="Month-end figures per supplier, currency")
async def reconcile_figures(app: App, who: Viewer, name: str, month: str = "") -> dict[str, Any]:
    return reconcile_doc(await reconcile(app.store, name, parse_month(month)))


@router.get("/connections/{name}/mappings", summary="A connection's cross-references")
async def mappings(
    app: App, who: Viewer, name: str, kind: MappingKind | None = None
) -> dict[str, Any]:
    return mappings_doc(await list_mappings(app.store, name, kind))


class MappingBody(BaseModel):
    kind: MappingKind
    cin7_value: str = Field(min_length=1, max_length=255)
    qad_value: str = Field(min_length=1, max_length=255)


@router.put("/connections/{name}/mappings", summary="Set one mapping (operator)")
async def put_mapping(app: App, who: Operator, name: str, body: MappingBody) -> dict[str, Any]:
    change = await set_mapping(app.store, name, body.kind, body.cin7_value, body.qad_value)
    return {"kind": change.kind, "cin7_value": change.cin7_value, "qad_value": change.qad_value}


@router.delete("/connections/{name}/mappings", summary="Remove one mapping (operator)")
async def delete_mapping(
    app: App, who: Operator, name: str, kind: MappingKind, cin7_value: str
) -> dict[str, Any]:
    change = await remove_mapping(app.store, name, kind, cin7_value)
    return {"kind": change.kind, "cin7_value": change.cin7_value, "removed": True}


@router.get(
    "/connections/{name}/choices/{kind}",
    summary="QAD's own codes for a mapping kind (read from the tenant, cached a few minutes)",
)
async def choices(app: App, who: Operator, name: str, kind: MappingKind) -> dict[str, Any]:
    found = await qad_choices(app.store, name, kind, cache=app.choices)
    return {
        "kind": kind,
        "choices": [
            {"code": c.code, "description": c.description, "active": c.active} for c in found
        ],
    }


class ReplayBody(BaseModel):
    """What to replay: purchases by reference, records by id, or one error-queue group."""

    references: list[str] = Field(default_factory=list)
    record_ids: list[int] = Field(default_factory=list)
    group: str | None = None


@router.post("/connections/{name}/replay", summary="Replay records from their snapshots")
async def replay(
    app: App, who: Operator, name: str, body: ReplayBody, response: Response
) -> dict[str, Any]:
    """On PostgreSQL the replay is queued for a worker (202, ``status`` ``queued`` and the
    job's id); on SQLite it runs in this request (200, each record's outcome)."""
    result = await replay_or_queue(
        app.store,
        name,
        body.references,
        group=body.group,
        record_ids=body.record_ids,
        actor=who.actor,
    )
    if isinstance(result, Deferral):
        response.status_code = 202
    return replay_doc(result)


@router.post(
    "/connections/{name}/pause",
    summary="Pause the connection's schedule (operator); recorded in its trail",
)
async def pause(app: App, who: Operator, name: str) -> dict[str, Any]:
    return await _set_paused(app, who, name, True)


@router.post(
    "/connections/{name}/resume",
    summary="Resume the connection's schedule (operator); recorded in its trail",
)
async def resume(app: App, who: Operator, name: str) -> dict[str, Any]:
    return await _set_paused(app, who, name, False)


async def _set_paused(app: Console, who: Operator, name: str, paused: bool) -> dict[str, Any]:
    change = await set_paused(app.store, name, paused, actor=who.actor)
    return {
        "paused": change.paused,
        "changed": change.changed,
        "connection": connection_doc(change.config),
    }


@router.post("/connections/{name}/test", summary="Ping Cin7 Core and QAD (operator)")
async def test(app: App, who: Operator, name: str) -> dict[str, Any]:
    result = await ping_connection(app.store, name)
    app.choices.forget(name)
    return {
        "ok": result.ok,
        "verdicts": [
            {"system": v.system, "ok": v.ok, "message": v.message, "problem": v.problem}
            for v in result.verdicts
        ],
    }


@router.post(
    "/connections/{name}/fit",
    summary="Probe, read-only, whether the tenant fits the connection's profile (operator)",
)
async def fit(app: App, who: Operator, name: str) -> dict[str, Any]:
    report = await fit_connection(app.store, name)
    return {"connection": name, **report.to_json()}


class ConnectionBody(BaseModel):
    """A new connection. The key and password are write-only: no answer ever shows them."""

    name: str
    cin7_account_id: str
    cin7_application_key: SecretStr
    cin7_base_url: str = DEFAULT_CIN7_BASE_URL
    qad_url: str
    qad_client_id: str
    qad_username: str
    qad_password: SecretStr
    qad_domain: str
    qad_entity: str
    qad_site: str | None = None
    schedule: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    allow_local: bool = False


@router.post("/connections", summary="Add a connection (admin)", status_code=201)
async def add(app: App, who: Admin, body: ConnectionBody) -> dict[str, Any]:
    config = build_connection(body.name, body.model_dump(exclude={"name"}))
    return connection_doc(await add_connection(app.store, config))


@router.patch(
    "/connections/{name}",
    summary="Change settings by their flat names (admin); records, trail, mappings stay",
)
async def edit(
    app: App,
    who: Admin,
    name: str,
    changes: Annotated[dict[str, Any], Body(examples=[{"schedule": "every 30m"}])],
) -> dict[str, Any]:
    done = await edit_connection(app.store, name, changes)
    app.choices.forget(name)
    return {"changed": list(done.settings), "connection": connection_doc(done.config)}


@router.get(
    "/connections/{name}/audit/head",
    summary="The connection's audit chain head (event count and last link) to keep elsewhere",
)
async def chain_head(app: App, who: Viewer, name: str) -> dict[str, Any]:
    return head_doc(await audit_head(app.store, name))


@router.get(
    "/connections/{name}/audit/verify",
    summary="Check every link of the connection's audit chain, optionally against a kept head",
)
async def chain_verify(app: App, who: Viewer, name: str, expect: str = "") -> dict[str, Any]:
    return chain_check_doc(await verify_audit(app.store, name, expect.strip() or None))


@router.get("/connections/{name}/settings", summary="A connection's settings, no secrets")
async def settings(app: App, who: Viewer, name: str) -> dict[str, Any]:
    return connection_doc(await show_connection(app.store, name))


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(path: str, who: Viewer) -> None:
    """Unknown paths: 401 before sign-in (nothing to learn), 404 after."""
    raise HTTPException(404, f"no such API path: /api/{path}")
