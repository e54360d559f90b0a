"""The JSON API under ``/api``: what the pages show, for scripts and dashboards.

Reads need any signed-in user; changes need the operator or admin role and the session's CSRF
token in the ``X-CSRF-Token`` header. Each route calls the same use case as its page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from ml_connector.usecases.overview import overview
from ml_connector.web.auth import Viewer
from ml_connector.web.context import Console, console
from ml_connector.web.views import overview_doc

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


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(path: str, who: Viewer) -> None:
    """Unknown paths: 401 before sign-in (nothing to learn), 404 after."""
    raise HTTPException(404, f"no such API path: /api/{path}")
