"""`/healthz` and `/readyz`: answered without sign-in, for load balancers and orchestrators.

`/healthz` says the process serves requests (it touches nothing else). `/readyz` says it can do
its job: the database answers and its schema is at the migration this code ships with; a
database that is down or behind answers 503 with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ml_connector.errors import StoreError
from ml_connector.store.db import current_revision, head_revision
from ml_connector.web.context import Console, console

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and its migrations are applied",
    responses={503: {"description": "not ready: the database is unreachable or behind"}},
)
async def readyz(app: Annotated[Console, Depends(console)]) -> JSONResponse:
    expected = head_revision()
    doc: dict[str, Any] = {"status": "ready", "database": "ok", "revision": None}
    try:
        doc["revision"] = await current_revision(app.store.engine)
    except (StoreError, OSError) as exc:
        doc.update(status="not ready", database=f"unreachable: {type(exc).__name__}")
        return JSONResponse(doc, status_code=503)
    except Exception as exc:  # the driver's own errors: any failure means not ready
        doc.update(status="not ready", database=f"unreachable: {type(exc).__name__}")
        return JSONResponse(doc, status_code=503)
    if doc["revision"] != expected:
        doc.update(status="not ready", database=f"migrations not applied (want {expected})")
        return JSONResponse(doc, status_code=503)
    return JSONResponse(doc)
