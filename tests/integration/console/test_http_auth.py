"""Signing in over HTTP: the login form, cookies, CSRF, roles, 401 and 303 for strangers."""

from __future__ import annotations

import httpx
import pytest
from console_helpers import PASSWORD, csrf_of, sign_in_as

from ml_connector.store.users import SqlUsers


async def test_the_login_form_has_its_fields_and_a_csrf_token(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")

    assert form.status_code == 200
    assert 'name="username"' in form.text
    assert 'name="password"' in form.text
    assert 'type="hidden" name="csrf_token"' in form.text
    assert len(csrf_of(form.text)) >= 32
    assert form.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in form.headers["content-security-policy"]


async def test_signing_in_answers_303_to_the_overview_with_a_safe_session_cookie(
    client: httpx.AsyncClient, people: dict[str, str], users: SqlUsers
) -> None:
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("mlc_session="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes
    assert not any(a.startswith(("expires", "max-age")) for a in attributes)
    overview = await client.get("/")
    assert overview.status_code == 200
    assert "ada" in overview.text
    assert (await users.list_events())[0].event == "signed-in"


async def test_behind_https_the_session_cookie_is_secure(
    store, passwords, people: dict[str, str]
) -> None:
    from ml_connector.web import ConsoleConfig, create_app

    app = create_app(store, ConsoleConfig(behind_https=True), passwords=passwords)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
        form = await client.get("/login")
        answer = await client.post(
            "/login",
            data={"username": "ada", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("mlc_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


async def test_a_session_left_idle_is_signed_out_over_http(
    store, passwords, people: dict[str, str], clock
) -> None:
    from datetime import timedelta

    from ml_connector.usecases.access import SignInPolicy
    from ml_connector.web import ConsoleConfig, create_app

    config = ConsoleConfig(policy=SignInPolicy(idle=timedelta(minutes=30)))
    app = create_app(store, config, passwords=passwords, clock=clock.utcnow)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        await sign_in_as(client, "vera")
        clock.advance(25 * 60)
        assert (await client.get("/api/me")).status_code == 200  # used: idle time restarts
        clock.advance(25 * 60)
        assert (await client.get("/")).status_code == 200
        clock.advance(31 * 60)

        assert (await client.get("/api/me")).status_code == 401
        home = await client.get("/")
        assert (home.status_code, home.headers["location"]) == (303, "/login")


async def test_a_wrong_password_shows_the_form_again_with_401(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"username": "ada", "password": "nope nope", "csrf_token": csrf_of(form.text)},
    )

    assert answer.status_code == 401
    assert "wrong user name or password" in answer.text
    assert "mlc_session" not in answer.headers.get("set-cookie", "")
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_sign_in_attempts_are_rate_limited(
    client: httpx.AsyncClient, people: dict[str, str], users: SqlUsers
) -> None:
    token = csrf_of((await client.get("/login")).text)
    for _ in range(5):
        refused = await client.post(
            "/login", data={"username": "ada", "password": "guess guess", "csrf_token": token}
        )
        assert refused.status_code == 401

    throttled = await client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token}
    )

    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "too many" in throttled.text
    assert (await users.list_events())[0].event == "sign-in-throttled"


async def test_a_login_post_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await client.get("/login")
    missing = await client.post("/login", data={"username": "ada", "password": PASSWORD})
    forged = await client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": "x" * 43}
    )

    assert missing.status_code == 403
    assert forged.status_code == 403
    assert "mlc_session" not in missing.headers.get("set-cookie", "")


async def test_strangers_are_sent_to_login_from_pages_and_get_401_from_the_api(
    client: httpx.AsyncClient,
) -> None:
    home = await client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/login"
    deep = await client.get("/?view=all")
    assert deep.status_code == 303
    assert deep.headers["location"] == "/login?next=/%3Fview%3Dall"

    for method, path in [
        ("GET", "/api/connections"),
        ("GET", "/api/me"),
        ("GET", "/api/no/such/thing"),
        ("POST", "/api/connections/acme/replay"),
        ("DELETE", "/api/whatever"),
    ]:
        answer = await client.request(method, path)
        assert answer.status_code == 401, (method, path)
        assert answer.json() == {"detail": "sign in first"}


async def test_unknown_api_paths_are_404_once_signed_in(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in_as(client, "vera")
    assert (await client.get("/api/no/such/thing")).status_code == 404


async def test_next_only_leads_to_local_paths(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    for target, expected in [
        ("/connections", "/connections"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
    ]:
        form = await client.get("/login")
        answer = await client.post(
            "/login",
            data={
                "username": "vera",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert answer.headers["location"] == expected
        client.cookies.clear()


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(
    client: httpx.AsyncClient, people: dict[str, str], users: SqlUsers
) -> None:
    token = await sign_in_as(client, "otto")

    assert (await client.post("/logout")).status_code == 403
    assert (await client.get("/api/me")).status_code == 200
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert (await client.get("/api/me")).status_code == 401
    assert (await users.list_events())[0].event == "signed-out"


async def test_a_stolen_session_is_dead_once_the_password_changes(
    client: httpx.AsyncClient, people: dict[str, str], users: SqlUsers, passwords
) -> None:
    from ml_connector.usecases.users import change_password

    await sign_in_as(client, "otto")
    await change_password(users, passwords, "otto", "another password", actor="cli:root")
    assert (await client.get("/api/me")).status_code == 401


@pytest.mark.parametrize("header", [None, "wrong-token"])
async def test_api_changes_without_the_right_csrf_header_are_refused(
    client: httpx.AsyncClient, people: dict[str, str], header: str | None
) -> None:
    await sign_in_as(client, "ada")
    headers = {"X-CSRF-Token": header} if header else {}

    answer = await client.post("/api/no/such/thing", headers=headers, json={})

    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]


async def test_admins_read_the_users_and_the_access_log_others_may_not(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in_as(client, "vera")
    assert (await client.get("/users")).status_code == 403
    client.cookies.clear()
    form = await client.get("/login")
    await client.post(
        "/login",
        data={"username": "ada", "password": "nope nope", "csrf_token": csrf_of(form.text)},
    )
    await sign_in_as(client, "ada")

    page = await client.get("/users")

    assert page.status_code == 200
    assert 'id="access-log"' in page.text
    assert "sign-in-refused" in page.text
    assert "signed-in" in page.text
    assert "argon2" not in page.text
    assert PASSWORD not in page.text
