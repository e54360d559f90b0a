"""CLI fixtures: both sandboxes over real HTTP, a temporary home, and a runner that invokes
`ml-connector` commands in-process with that home (never the user's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import Cli, Sandboxes, start_sandboxes

from ml_connector.sync.engine import Counters


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    """Fresh Cin7 (40 purchases, rate limit lifted) and QAD sandboxes on loopback ports."""
    with start_sandboxes() as boxes:
        yield boxes


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A runner bound to an empty temporary home."""
    return Cli(tmp_path / "home")


@pytest.fixture
def connected(cli: Cli, sandboxes: Sandboxes) -> Cli:
    """A home holding connection ``acme`` to the sandboxes, mappings suggested and applied."""
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    cli.ok("mapping", "suggest", "acme", "--apply")
    return cli


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, Sandboxes, dict]]:
    """One synced home shared by the read-only tests of a module: connection ``acme``, mappings
    applied, one sync done. Yields the runner, the sandboxes and the sync's JSON document."""
    with start_sandboxes() as boxes:
        cli = Cli(tmp_path_factory.mktemp("synced") / "home")
        cli.ok("connection", "add", *boxes.add_args("acme"))
        cli.ok("mapping", "suggest", "acme", "--apply")
        result = cli("sync", "acme", "--json")
        assert result.exit_code in (0, 1), result.stderr
        doc = json.loads(result.stdout)
        assert set(doc["counters"]) == set(Counters().__dict__)
        yield cli, boxes, doc
