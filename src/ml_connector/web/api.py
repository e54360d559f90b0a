"""The JSON API under ``/api``: what the pages show, for scripts and dashboards.

Reads need any signed-in user; changes need the operator or admin role and the session's CSRF
token in the ``X-CSRF-Token`` header. Each route calls the same use case as its page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from ml_connector.usecases.error_queue import error_queue
from ml_connector.usecases.overview import overview
from ml_connector.usecases.records import parse_statuses, record_detail, search_records
from ml_connector.usecases.runs import run_history
from ml_connector.usecases.triage import settle_records
from ml_connector.web.auth import Operator, Viewer
from ml_connector.web.context import Console, console
from ml_connector.web.forms import parse_day
from ml_connector.web.views import (
    detail_doc,
    history_doc,
    jsonable,
    overview_doc,
    queue_doc,
    record_doc,
    records_doc,
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


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(path: str, who: Viewer) -> None:
    """Unknown paths: 401 before sign-in (nothing to learn), 404 after."""
    raise HTTPException(404, f"no such API path: /api/{path}")
