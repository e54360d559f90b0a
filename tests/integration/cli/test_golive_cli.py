"""`connection add/edit --since`, `--adopt-existing` and `golive NAME [--json]` on the CLI."""

from __future__ import annotations

from cli_helpers import Cli, Sandboxes


def test_cutover_settings_round_trip_through_add_edit_and_show(
    cli: Cli, sandboxes: Sandboxes
) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme", **{"--since": "2026-01-05"}))
    shown = cli.json("connection", "show", "acme")
    assert shown["options"]["since"] == "2026-01-05"
    assert "adopt_existing" not in shown["options"]  # on: the default

    edited = cli.ok("connection", "edit", "acme", "--since", "2026-02-01", "--no-adopt-existing")
    assert "Changed since, adopt_existing of connection acme" in edited.stdout
    shown = cli.json("connection", "show", "acme")
    assert (shown["options"]["since"], shown["options"]["adopt_existing"]) == ("2026-02-01", False)

    cli.ok("connection", "edit", "acme", "--since", "")
    assert "since" not in cli.json("connection", "show", "acme")["options"]

    bad = cli("connection", "edit", "acme", "--since", "2026-13-01")
    assert bad.exit_code == 2
    assert "since" in bad.stderr


def test_the_worklist_starts_empty_and_posting_nothing_is_refused(
    cli: Cli, sandboxes: Sandboxes
) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme", **{"--since": "2026-01-05"}))

    doc = cli.json("golive", "acme")
    assert doc == {"connection": "acme", "cutover": "2026-01-05", "worklist": []}
    assert "worklist is empty" in cli.ok("golive", "acme").stdout
    assert "nothing to post" in cli.ok("golive", "acme", "--all").stdout
    missing = cli("golive", "acme", "--post", "PO-99999")
    assert missing.exit_code == 2
    assert "has no purchase 'PO-99999'" in missing.stderr


def test_resync_without_a_cursor_moves_nothing_and_says_so(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))

    doc = cli.json("resync", "acme", "--from", "2026-01-01")

    assert doc == {"connection": "acme", "before": None, "after": None, "moved": False}
    assert "already at the start" in cli.ok("resync", "acme", "--from", "2026-01-01").stdout
    assert cli("resync", "acme", "--from", "01/02/2026").exit_code == 2
