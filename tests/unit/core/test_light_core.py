"""The pure core stays light: the planner's import closure holds no I/O library.

The closure is read from the source with `ast` (no interpreter is started): every module-level
import of every `ml_connector` module reachable from `ml_connector.sync.plan`, parent packages
included, outside `if TYPE_CHECKING:` blocks and function bodies. Only the standard library and
pydantic may appear; SQLAlchemy, Alembic or httpx reappearing fails with the chain that brings it.
"""

from __future__ import annotations

import ast
import importlib
import sys
import typing
from pathlib import Path

import pytest

import ml_connector
from ml_connector import vocab

SRC = Path(ml_connector.__file__).parent
ALLOWED_THIRD_PARTY = {"pydantic"}


def _source(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != "ml_connector":
        return None
    base = SRC.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_nodes(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _import_time_nodes(node.body)
            found += _import_time_nodes(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _import_time_nodes(block)
            for handler in node.handlers:
                found += _import_time_nodes(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _import_time_nodes(node.body)
    return found


def _imports(module: str, path: Path) -> set[str]:
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in _import_time_nodes(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        if node.level:
            anchor = module.split(".")
            anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, node.module] if node.module else anchor)
        else:
            base = node.module or ""
        names.add(base)
        for alias in node.names:
            if _source(f"{base}.{alias.name}") is not None:
                names.add(f"{base}.{alias.name}")
    return {name for name in names if name != "__future__"}


def import_closure(root: str) -> dict[str, str | None]:
    """Every module imported when `root` is, each with the module that first imported it."""
    seen: dict[str, str | None] = {root: None}
    todo = [root]
    while todo:
        module = todo.pop()
        parts = module.split(".")
        wanted = {".".join(parts[:i]) for i in range(1, len(parts))}
        path = _source(module)
        if path is not None:
            wanted |= _imports(module, path)
        for name in sorted(wanted - seen.keys()):
            seen[name] = module
            if name.split(".")[0] == "ml_connector":
                todo.append(name)
    return seen


def _chain(closure: dict[str, str | None], name: str) -> str:
    steps = [name]
    while (parent := closure[steps[-1]]) is not None:
        steps.append(parent)
    return " <- ".join(steps)


def test_the_planner_imports_no_io_library() -> None:
    closure = import_closure("ml_connector.sync.plan")
    foreign = {
        name
        for name in closure
        if name.split(".")[0] not in sys.stdlib_module_names | {"ml_connector"}
        and name.split(".")[0] not in ALLOWED_THIRD_PARTY
    }
    assert not foreign, "\n".join(_chain(closure, name) for name in sorted(foreign))


def test_the_planner_does_not_reach_the_store_or_the_clients() -> None:
    closure = import_closure("ml_connector.sync.plan")
    io_modules = sorted(
        name
        for name in closure
        if name.startswith(("ml_connector.store", "ml_connector.qad", "ml_connector.cin7.client"))
    )
    assert io_modules == [], [_chain(closure, name) for name in io_modules]


def test_the_closure_reader_sees_what_the_store_imports() -> None:
    # A check that passes by seeing nothing proves nothing: the same reader finds SQLAlchemy
    # behind the store, and httpx behind the Cin7 client. Alembic is imported in the bodies
    # of the functions that migrate (a store at the head opens without it), so it is not seen.
    store = {name.split(".")[0] for name in import_closure("ml_connector.store.sql")}
    client = {name.split(".")[0] for name in import_closure("ml_connector.cin7.client")}
    assert "sqlalchemy" in store
    assert "alembic" not in store
    assert "httpx" in client


def test_type_checking_imports_and_function_bodies_are_not_followed() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import sqlalchemy\n"
        "def f():\n    import httpx\n"
        "class C:\n    import json\n"
        "try:\n    import tomllib\nexcept ImportError:\n    import tomli\n"
    )
    found = {alias.name for node in _import_time_nodes(tree.body) for alias in node.names}
    assert found == {"TYPE_CHECKING", "json", "tomllib", "tomli"}


@pytest.mark.parametrize(
    ("literal", "values"),
    [
        (vocab.RecordKind, vocab.RECORD_KINDS),
        (vocab.RecordStatus, vocab.RECORD_STATUSES),
        (vocab.Stream, vocab.STREAMS),
        (vocab.PostingState, vocab.POSTING_STATES),
        (vocab.MappingKind, vocab.MAPPING_KINDS),
        (vocab.MappingSource, vocab.MAPPING_SOURCES),
        (vocab.RunKind, vocab.RUN_KINDS),
        (vocab.RunStatus, vocab.RUN_STATUSES),
        (vocab.AuditEventKind, vocab.AUDIT_EVENT_KINDS),
        (vocab.ChainBreakKind, vocab.CHAIN_BREAK_KINDS),
    ],
)
def test_each_tuple_lists_exactly_its_literal(literal: object, values: tuple[str, ...]) -> None:
    assert values == typing.get_args(literal)


@pytest.mark.parametrize("package", ["ml_connector.cin7", "ml_connector.store"])
def test_every_exported_name_of_a_lazy_package_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError):
        _ = module.NoSuchName
