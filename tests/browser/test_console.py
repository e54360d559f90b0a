"""The operator console in Debian's Chromium, driven by Playwright, against both sandboxes.

One console is served on 127.0.0.1 over a synced SQLite database (see
tests/support/console_world.py): sign in, see the overview, fix a blocked purchase from the
error queue and replay it, watch a held invoice leave the holds once its receipt is posted,
have a viewer's replay and a form without its CSRF token refused, and look for the stored
secrets in every page. A screenshot of each main page goes to test-output/browser/.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from console_world import ConsoleWorld, Sandboxes, populate, serve_sandboxes, world_on
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ml_connector.passwords import Passwords
from ml_connector.serve import ServerThread
from ml_connector.store.db import create_engine
from ml_connector.store.sql import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.usecases.users import add_user
from ml_connector.vault import Vault
from ml_connector.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
T = TypeVar("T")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@dataclass
class Console:
    url: str
    database_url: str
    vault: Vault
    boxes: Sandboxes
    world: ConsoleWorld


def _in_a_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in another thread (Playwright's sync API
    keeps a loop running in this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


async def _populate(database_url: str, vault: Vault, boxes: Sandboxes) -> ConsoleWorld:
    store = await SqlStore.open(database_url, vault)
    try:
        built = await populate(store, boxes)
        users = SqlUsers(store.engine)
        cheap = Passwords(time_cost=1, memory_cost=8)
        for name, role in {"vera": "viewer", "otto": "operator"}.items():
            await add_user(users, cheap, name, role, PASSWORD, actor="test")
        return built
    finally:
        await store.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    vault = Vault.ephemeral()
    with serve_sandboxes() as boxes:
        built = _in_a_thread(lambda: _populate(database_url, vault, boxes))
        # The console's store is made here but first used in the server's own event loop.
        store = SqlStore(create_engine(database_url), vault)
        app = create_app(store, passwords=Passwords(time_cost=1, memory_cost=8))
        with ServerThread(app) as server:
            yield Console(server.url, database_url, vault, boxes, built)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _signed_in(browser: Browser, console: Console, name: str) -> Page:
    page = browser.new_context(base_url=console.url).new_page()
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(console.url + "/")
    return page


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_and_the_overview_shows_the_connection(browser: Browser, console: Console) -> None:
    page = browser.new_context(base_url=console.url).new_page()
    page.goto("/")
    expect(page).to_have_url(console.url + "/login")
    _shot(page, "login")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(console.url + "/")
    row = page.locator("tr[data-connection=acme]")
    expect(row).to_be_visible()
    expect(row).to_contain_text("attention")
    expect(page.locator("header")).to_contain_text("otto")
    _shot(page, "overview")


def test_a_blocked_purchase_is_fixed_in_the_error_queue_and_replayed(
    browser: Browser, console: Console
) -> None:
    console.boxes.qad.tenant("acme").add_item(
        "MTR075", "Electric Motor 0.75kW", unit_cost="289", gl_account="630"
    )
    page = _signed_in(browser, console, "otto")
    page.goto("/connections/acme/errors")
    group = page.locator("section.group", has_text="Missing item MTR-0.75KW")
    expect(group).to_contain_text(console.world.blocked)
    _shot(page, "error-queue")

    group.locator("select[name=qad_value]").select_option("MTR075")
    group.get_by_role("button", name="Save mapping").click()

    expect(page.locator(".flash")).to_contain_text("Mapped item MTR-0.75KW to MTR075.")
    expect(page.locator(".flash")).to_contain_text("Replayed 1: 1 posted.")
    expect(page.locator("section.group", has_text="Missing item MTR-0.75KW")).to_have_count(0)
    page.goto(f"/connections/acme/records?reference={console.world.blocked}")
    page.get_by_role("link", name=console.world.blocked).click()
    expect(page.locator("h1")).to_contain_text("posted")
    expect(page.locator("#trail")).to_contain_text("console:otto")
    expect(page.locator("#verify")).to_contain_text("intact")
    _shot(page, "record")


def test_a_held_invoice_is_released_after_its_receipt_is_posted(
    browser: Browser, console: Console
) -> None:
    page = _signed_in(browser, console, "otto")
    page.goto("/connections/acme/holds")
    held = page.locator(f"tr[data-reference='{console.world.held}']")
    expect(held).to_contain_text("BW-INV-2")
    expect(held).to_contain_text("NUT-M8: invoiced 12, received in QAD 0")
    _shot(page, "holds")

    console.boxes.cin7.state.receive(console.world.held_id)

    async def sync_again() -> None:
        store = await SqlStore.open(console.database_url, console.vault, migrate=False)
        try:
            config = await store.get_connection("acme")
            await world_on(store, console.boxes, config).sync()
        finally:
            await store.close()

    _in_a_thread(sync_again)
    page.reload()
    expect(page.locator(".empty")).to_contain_text("No invoice is held.")
    page.goto(f"/connections/acme/records?reference={console.world.held}")
    expect(page.locator(f"tr[data-reference='{console.world.held}']")).to_contain_text("posted")
    page.goto("/connections/acme/runs")
    _shot(page, "runs")


def test_a_viewers_replay_is_refused(browser: Browser, console: Console) -> None:
    page = _signed_in(browser, console, "vera")
    page.goto("/connections/acme/errors")
    expect(page.get_by_role("button", name="Replay selected")).to_have_count(0)
    token = page.evaluate("fetch('/api/me').then(r => r.json()).then(me => me.csrf_token)")

    status = page.evaluate(
        """([token]) => fetch('/connections/acme/errors/act', {
             method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: new URLSearchParams({csrf_token: token, action: 'replay-group', group: 'x'}),
           }).then(r => r.status)""",
        [token],
    )
    api = page.evaluate(
        """([token, body]) => fetch('/api/connections/acme/replay', {
             method: 'POST',
             headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
             body: body,
           }).then(r => r.status)""",
        [token, json.dumps({"references": [console.world.failed]})],
    )
    assert (status, api) == (403, 403)


def test_a_form_post_without_its_csrf_token_is_refused(browser: Browser, console: Console) -> None:
    page = _signed_in(browser, console, "otto")
    page.goto("/connections/acme/errors")
    group = page.locator("section.group", has_text=console.world.failed)
    group.locator("input[name=record_id]").first.check()
    group.locator("input[name=note]").fill("no token")
    group.locator("input[name=csrf_token]").evaluate("el => el.remove()")

    group.get_by_role("button", name="Ignore selected").click()

    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".flash")).to_contain_text("CSRF")
    page.goto(f"/connections/acme/records?reference={console.world.failed}")
    expect(page.locator(f"tr[data-reference='{console.world.failed}']")).to_contain_text("failed")


def test_no_secret_appears_in_any_page(browser: Browser, console: Console) -> None:
    page = _signed_in(browser, console, "otto")
    pages = {
        "overview": "/",
        "connections": "/connections",
        "records": "/connections/acme/records",
        "error-queue": "/connections/acme/errors",
        "holds": "/connections/acme/holds",
        "runs": "/connections/acme/runs",
        "mappings": "/connections/acme/mappings",
        "reconcile": "/connections/acme/reconcile",
        "audit": "/connections/acme/audit?verify=1",
        "settings": "/connections/acme/settings",
        "planted-settings": "/connections/planted/settings",
        "planted-records": "/connections/planted/records",
    }
    seen = []
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        html = page.content()
        seen.append(path)
        for secret in console.world.secrets:
            assert secret not in html, (path, secret)
        _shot(page, f"after-{name}")
    page.goto(f"/connections/acme/records?reference={console.world.posted}")
    page.get_by_role("link", name=console.world.posted).click()
    expect(page.locator("#diff")).to_be_visible()
    for secret in console.world.secrets:
        assert secret not in page.content()
    _shot(page, "record-diff")
    assert len(seen) == len(pages)
