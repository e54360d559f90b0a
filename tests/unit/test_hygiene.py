"""Rules about the test suite itself, checked on its source so they stay true as tests are added.

- Tests use the project through public names only: no `from ml_connector.x import _y`, no
  `module._y` or `obj._y` (outside `self`/`cls`), no `getattr(obj, "_y")`/`setattr`. A test that
  needs a private name is either testing an implementation detail or a name that should be
  public (and documented as such). Names rooted in another library's module (lxml's
  `etree._Element` is its documented element type) are that library's business.
- Helpers import by name from tests/support (pytest's `pythonpath`), never via `sys.path`.
- Virtual time is :class:`ml_connector.testing.FakeClock`: no test defines a clock of its own.
- The unit tier's guard (tests/unit/conftest.py) refuses sockets, subprocesses, databases and
  real sleeps; the tests at the end show it does.
"""

from __future__ import annotations

import ast
import asyncio
import socket
import sqlite3
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest

TESTS = Path(__file__).parents[1]
SELF_NAMES = {"self", "cls"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def suite_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def private_uses(source: str | ast.Module) -> list[str]:
    """Every use of a private project name in `source`, as `line: what`."""
    tree = ast.parse(source) if isinstance(source, str) else source
    foreign = {  # names bound to other libraries' modules and objects
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not (
            (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name
        ).startswith(("ml_connector", "."))
        for alias in node.names
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ml_connector"):
            module = node.module or ""
            if any(_private(part) for part in module.split(".")):
                found.append((node.lineno, f"from {module} import"))
            found += [(node.lineno, f"import {a.name}") for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"import {a.name}")
                for a in node.names
                if a.name.startswith("ml_connector") and any(_private(p) for p in a.name.split("."))
            ]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in SELF_NAMES | foreign):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            name = ast.unparse(node.func)
            second = node.args[1]
            if (
                name.endswith(("getattr", "setattr", "delattr"))
                and isinstance(second, ast.Constant)
                and isinstance(second.value, str)
                and _private(second.value)
            ):
                found.append((node.lineno, f"{name}(…, {second.value!r})"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_the_checker_sees_each_form_of_private_use() -> None:
    source = """
from lxml import etree
from ml_connector.sync.engine import _intent, public
from ml_connector._hidden import thing
import ml_connector._hidden
client._tx.get("x")
module._registry.clear()
monkeypatch.setattr(module, "_registry", {})
getattr(client, "_http")
self._state = 1
cls._cache = {}
x.__class__
etree._Element
"""
    assert private_uses(source) == [
        "3: import _intent",
        "4: from ml_connector._hidden import",
        "5: import ml_connector._hidden",
        "6: client._tx",
        "7: module._registry",
        "8: monkeypatch.setattr(…, '_registry')",
        "9: getattr(…, '_http')",
    ]


def test_no_test_uses_a_private_project_name() -> None:
    offenders = {
        str(path.relative_to(TESTS)): uses
        for path in suite_files()
        if (uses := private_uses(parsed(path)))
    }
    assert offenders == {}


def test_no_test_edits_sys_path() -> None:
    offenders = [
        str(path.relative_to(TESTS))
        for path in suite_files()
        if path != Path(__file__)
        and any(
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
            for node in ast.walk(parsed(path))
        )
    ]
    assert offenders == []
    assert str(TESTS / "support") in sys.path  # pytest's `pythonpath` put it there


def clock_classes(source: str | ast.Module) -> list[str]:
    """Classes in `source` that are clocks of their own, as `line: name`."""
    tree = ast.parse(source) if isinstance(source, str) else source
    return [
        f"{node.lineno}: {node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name.lower().endswith("clock")
    ]


def test_the_clock_checker_sees_a_clock_class_at_any_depth() -> None:
    source = """
class Clock:
    pass
def fixture():
    class SettableClock:
        pass
class Clocks:
    pass
"""
    assert clock_classes(source) == ["2: Clock", "5: SettableClock"]


def test_no_test_defines_a_clock_of_its_own() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in suite_files()
        if (found := clock_classes(parsed(path)))
    }
    assert offenders == {}


# ---- the unit tier's guard ----------------------------------------------------------------------


def test_the_guard_refuses_a_socket() -> None:
    with pytest.raises(pytest.fail.Exception, match="network"):
        socket.create_connection(("127.0.0.1", 9))
    with socket.socket() as sock, pytest.raises(pytest.fail.Exception, match="network"):
        sock.connect(("127.0.0.1", 9))


def test_the_guard_refuses_a_subprocess_and_a_database() -> None:
    with pytest.raises(pytest.fail.Exception, match="subprocess"):
        subprocess.run(["true"], check=False)
    with pytest.raises(pytest.fail.Exception, match="database"):
        sqlite3.connect(":memory:")


def test_the_guard_refuses_a_blocking_sleep() -> None:
    with pytest.raises(pytest.fail.Exception, match="sleep"):
        time.sleep(0.01)


async def test_the_guard_refuses_a_real_async_sleep_and_allows_a_yield() -> None:
    with pytest.raises(pytest.fail.Exception, match="sleep"):
        await asyncio.sleep(0.01)
    assert await asyncio.sleep(0, "yielded") == "yielded"
