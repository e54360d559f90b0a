"""Where ``-v`` may stand on the command line (pure argument rewriting)."""

from __future__ import annotations

import pytest

from ml_connector.cli.entry import hoist_verbose


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        (["sync", "acme"], ["sync", "acme"]),
        (["-v", "sync", "acme"], ["--verbose", "sync", "acme"]),
        (["sync", "acme", "-v"], ["--verbose", "sync", "acme"]),
        (["sync", "--verbose", "acme", "--json"], ["--verbose", "sync", "acme", "--json"]),
        (["sync", "-v", "acme", "-v"], ["--verbose", "sync", "acme"]),
        # after "--" everything is a value, even "-v"
        (
            ["mapping", "set", "acme", "item", "--", "-v", "X"],
            ["mapping", "set", "acme", "item", "--", "-v", "X"],
        ),
        ([], []),
    ],
)
def test_verbose_is_moved_to_the_front(given: list[str], parsed: list[str]) -> None:
    assert hoist_verbose(given) == parsed
