"""Every state-changing route of the console, read from the app's own route table: each refuses a
request without the session's CSRF token or with a wrong one (403), lets the right one past, and
refuses a role below its own (403).

The table below names the role each route needs; a route added to the app without an entry fails
`test_every_state_changing_route_is_listed`, so no new form or API call escapes these checks.
Runs on SQLite only: the checks happen before any use case touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from console_helpers import PASSWORD, csrf_of, sign_in_as
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import create_async_engine

from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault
from ml_connector.web import create_app
from ml_connector.web.auth import SAFE_METHODS

#: (method, path) → the least role that may call it; "anyone" needs no session (the sign-in).
NEEDS: dict[tuple[str, str], str] = {
    ("POST", "/login"): "anyone",
    ("POST", "/logout"): "viewer",
    ("POST", "/connections"): "admin",
    ("POST", "/connections/{name}/settings"): "admin",
    ("POST", "/connections/{name}/errors/map"): "operator",
    ("POST", "/connections/{name}/errors/act"): "operator",
    ("POST", "/connections/{name}/mappings"): "operator",
    ("POST", "/connections/{name}/test"): "operator",
    ("POST", "/connections/{name}/fit"): "operator",
    ("POST", "/connections/{name}/pause"): "operator",
    ("POST", "/connections/{name}/resume"): "operator",
    ("POST", "/api/connections"): "admin",
    ("PATCH", "/api/connections/{name}"): "admin",
    ("POST", "/api/connections/{name}/records/settle"): "operator",
    ("PUT", "/api/connections/{name}/mappings"): "operator",
    ("DELETE", "/api/connections/{name}/mappings"): "operator",
    ("POST", "/api/connections/{name}/replay"): "operator",
    ("POST", "/api/connections/{name}/pause"): "operator",
    ("POST", "/api/connections/{name}/resume"): "operator",
    ("POST", "/api/connections/{name}/test"): "operator",
    ("POST", "/api/connections/{name}/fit"): "operator",
    # unknown API paths: 404 once signed in, but a change still needs its CSRF token first
    ("POST", "/api/{path:path}"): "viewer",
    ("PUT", "/api/{path:path}"): "viewer",
    ("PATCH", "/api/{path:path}"): "viewer",
    ("DELETE", "/api/{path:path}"): "viewer",
}

#: One user per role (the `people` fixture).
USER_OF = {"viewer": "vera", "operator": "otto", "admin": "ada"}
_BELOW = {"operator": ["viewer"], "admin": ["viewer", "operator"]}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The app's routes, descending into included routers and mounts."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or route
        children = getattr(inner, "routes", None)
        if children is not None and children is not routes:
            yield from _api_routes(list(children))


def state_changing(app: FastAPI) -> list[tuple[str, str]]:
    found = {
        (method, route.path)
        for route in _api_routes(list(app.router.routes))
        for method in route.methods
        if method not in SAFE_METHODS
    }
    return sorted(found)


# The route table needs no database: an engine that never connects is enough to build the app.
ROUTES = state_changing(
    create_app(SqlStore(create_async_engine("sqlite+aiosqlite://"), Vault.ephemeral()))
)


@pytest.fixture
def database_url(tmp_path) -> str:  # overrides the SQLite/PostgreSQL pair: SQLite only here
    return f"sqlite+aiosqlite:///{tmp_path / 'routes.db'}"


def _concrete(path: str) -> str:
    """A path for the template: a connection that does not exist, so a request that got past
    the checks would fail in its use case (400/404/422) without touching a remote."""
    return (
        path.replace("{name}", "nobody")
        .replace("{record_id}", "1")
        .replace("{kind}", "item")
        .replace("{path:path}", "no/such/thing")
    )


async def _send(
    client: httpx.AsyncClient, method: str, path: str, token: str | None, *, form: bool
) -> httpx.Response:
    url = _concrete(path)
    if form:
        data = {"action": "ignore", "note": "n", "record_id": "1"}
        if token is not None:
            data["csrf_token"] = token
        return await client.request(method, url, data=data)
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return await client.request(method, url, json={}, headers=headers)


def _detail(answer: httpx.Response) -> str:
    if answer.headers.get("content-type", "").startswith("application/json"):
        return str(answer.json().get("detail", ""))
    return answer.text


def test_every_state_changing_route_is_listed() -> None:
    assert len(ROUTES) >= len(NEEDS)  # the walk found the included routers' routes
    assert set(ROUTES) == set(NEEDS)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_a_change_needs_its_csrf_token_and_its_role(
    client: httpx.AsyncClient, people: dict[str, str], method: str, path: str
) -> None:
    form = not path.startswith("/api/")
    needs = NEEDS[(method, path)]
    if path == "/login":
        await client.get("/login")  # the form's cookie is set; its token is not sent
    else:
        token = await sign_in_as(client, "ada")  # the admin: no role stands in the way

    for sent in (None, "forged-" + "x" * 40):
        answer = await _send(client, method, path, sent, form=form)
        assert answer.status_code == 403, (sent, answer.status_code, answer.text[:200])
        assert "CSRF" in _detail(answer)

    # The same request with the right token gets past the check (it fails later, or succeeds).
    if path == "/login":
        token = csrf_of((await client.get("/login")).text)
    right = await _send(client, method, path, token, form=form)
    assert right.status_code != 403, right.text[:200]
    if path == "/logout":
        assert right.status_code == 303

    # Each role below the route's own is refused, with its right token.
    for role in _BELOW.get(needs, []):
        client.cookies.clear()
        token = await sign_in_as(client, USER_OF[role])
        answer = await _send(client, method, path, token, form=form)
        assert answer.status_code == 403, (role, answer.text[:200])
        assert f"needs the {needs} role" in _detail(answer)


async def test_the_login_check_needs_the_cookie_as_well_as_the_field(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    token = csrf_of((await client.get("/login")).text)
    client.cookies.clear()  # a token lifted from the form, posted without the browser's cookie

    answer = await client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token}
    )

    assert answer.status_code == 403
