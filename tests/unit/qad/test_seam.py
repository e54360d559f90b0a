"""The channel seam holds: what sits above it never names a channel.

The engine, the executor and the operations are written against `QadChannel`; only the place
that builds a connection's channel (`sync/connect.py`, through `qad/routing.py`) picks REST or
QXtend. Every other module of `sync/` is above the seam, including ones added later. Read from
the source with `ast`, so the check starts no interpreter and imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ml_connector

SRC = Path(ml_connector.__file__).parent
BUILDS_THE_CHANNEL = "sync/connect.py"
ABOVE_THE_SEAM = (
    *sorted(
        str(path.relative_to(SRC))
        for path in (SRC / "sync").glob("*.py")
        if str(path.relative_to(SRC)) != BUILDS_THE_CHANNEL
    ),
    "qad/operations.py",
    "qad/compare.py",
    "qad/channel.py",
    "qad/fake.py",
)
CHANNELS = ("ml_connector.qad.rest", "ml_connector.qad.qxtend", "ml_connector.qad.routing", "httpx")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("module", ABOVE_THE_SEAM)
def test_code_above_the_seam_names_no_channel(module: str) -> None:
    named = sorted(
        name
        for name in _imported(SRC / module)
        if any(name == c or name.startswith(c + ".") for c in CHANNELS)
    )
    assert named == [], f"{module} imports {named}: go through QadChannel instead"


def test_the_seam_check_covers_the_engine_and_sees_the_builder() -> None:
    # A check that passes by looking at nothing proves nothing: the engine's modules are in
    # the list, and the one module left out does name the channels.
    assert {"sync/engine.py", "sync/execute.py", "sync/journal.py"} <= set(ABOVE_THE_SEAM)
    assert any(name.startswith(CHANNELS) for name in _imported(SRC / BUILDS_THE_CHANNEL)), (
        BUILDS_THE_CHANNEL
    )
