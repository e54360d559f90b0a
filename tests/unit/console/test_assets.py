"""The console fetches nothing from the internet: every template and packaged asset refers only to
the console's own paths (``/…``, ``?…``, ``#…``), never to ``http(s)://`` or ``//host``."""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

import pytest

#: Attributes that make a browser fetch or navigate: their values must be local.
_HTML_REF = re.compile(
    r"""\b(src|href|action|formaction|srcset|poster|data|background)\s*=\s*(["']?)([^"'\s>]*)""",
    re.IGNORECASE,
)
#: CSS and JavaScript ways to load something.
_CSS_REF = re.compile(r"""(url\(\s*["']?|@import\s+["']?)([^"')\s;]*)""", re.IGNORECASE)
_JS_REF = re.compile(r"""\b(fetch|import|importScripts)\s*\(\s*["'`]([^"'`]*)""")


def _assets() -> list[Traversable]:
    web = files("ml_connector.web")
    found = []
    for folder in ("templates", "static"):
        found.extend(p for p in web.joinpath(folder).iterdir() if p.is_file())
    return sorted(found, key=lambda p: p.name)


def _remote(target: str) -> bool:
    """True for a reference that leaves the console: a scheme or a protocol-relative host."""
    target = target.strip()
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:|//|\\\\)", target, re.IGNORECASE)) and not (
        target.lower().startswith(("data:", "#", "mailto:"))
    )


def references(text: str) -> list[str]:
    """Every place ``text`` makes a browser load or go somewhere."""
    return [
        *(m.group(3) for m in _HTML_REF.finditer(text)),
        *(m.group(2) for m in _CSS_REF.finditer(text)),
        *(m.group(2) for m in _JS_REF.finditer(text)),
    ]


ASSETS = _assets()


def test_the_console_ships_its_templates_and_assets() -> None:
    names = {p.name for p in ASSETS}
    assert {"base.html", "login.html", "overview.html", "console.css", "console.js"} <= names


@pytest.mark.parametrize("asset", ASSETS, ids=lambda p: p.name)
def test_no_asset_refers_outside_the_console(asset: Traversable) -> None:
    text = asset.read_text(encoding="utf-8")

    remote = [target for target in references(text) if _remote(target)]

    assert remote == [], f"{asset.name} loads or links {remote}"


def test_the_base_page_loads_its_style_and_script_from_the_console() -> None:
    base = files("ml_connector.web").joinpath("templates", "base.html").read_text("utf-8")
    assert references(base).count("/static/console.css") == 1
    assert references(base).count("/static/console.js") == 1


@pytest.mark.parametrize(
    ("snippet", "remote"),
    [
        ('<script src="https://cdn.example/htmx.js"></script>', True),
        ("<link rel=stylesheet href=//fonts.example/css>", True),
        ("body { background: url('http://img.example/a.png') }", True),
        ('@import "https://fonts.example/x.css";', True),
        ("fetch('https://api.example/x')", True),
        ('<a href="/connections/{{ name|urlencode }}/runs">', False),
        ('<form method="get" action="?">', False),
        ('<img src="data:image/png;base64,AAAA">', False),
        ('<input placeholder="https://acme.qad.com/clouderp">', False),  # text, not a fetch
    ],
)
def test_the_check_itself_tells_remote_from_local(snippet: str, remote: bool) -> None:
    assert any(_remote(t) for t in references(snippet)) is remote
