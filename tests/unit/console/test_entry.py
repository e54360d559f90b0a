"""Where ``-v`` may stand on the command line (pure argument rewriting)."""

from __future__ import annotations

import pytest

from ml_connector.cli.entry import hoist_verbose, unwrap_help


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


def test_help_paragraphs_are_joined_onto_one_line_each() -> None:
    doc = """First line
        goes on here.

        Second paragraph,
        over two lines.
        """
    assert unwrap_help(doc) == "First line goes on here.\n\nSecond paragraph, over two lines."


def test_kept_paragraphs_and_the_cut_are_left_alone() -> None:
    doc = "Summary.\n\n\b\nkeep\nthese lines\n\nJoin\nthese.\n\f\nnot\nshown"
    assert unwrap_help(doc) == "Summary.\n\n\b\nkeep\nthese lines\n\nJoin these.\n\f\nnot\nshown"
