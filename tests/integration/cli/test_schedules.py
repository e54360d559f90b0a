"""`--schedule` takes cron beside intervals, `--timezone` the zone cron is read in; a schedule or
zone that does not read is one line naming the setting, exit 2, before any secret is asked."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli, Sandboxes


def test_cron_and_time_zone_are_stored_shown_and_edited(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok(
        "connection",
        "add",
        *sandboxes.add_args("acme"),
        "--schedule",
        "*/15 6-20 * * 1-5",
        "--timezone",
        "Europe/Berlin",
    )
    shown = cli.json("connection", "show", "acme")
    assert (shown["schedule"], shown["timezone"], shown["paused"]) == (
        "*/15 6-20 * * 1-5",
        "Europe/Berlin",
        False,
    )
    assert "timezone" not in shown["options"]

    changed = cli.ok("connection", "edit", "acme", "--timezone", "America/New_York")
    assert "Changed timezone of connection acme" in changed.stdout
    assert cli.json("connection", "show", "acme")["timezone"] == "America/New_York"
    cli.ok("connection", "edit", "acme", "--timezone", "")  # back to the default
    assert cli.json("connection", "show", "acme")["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--schedule", "*/15 6-20 * *", "schedule '*/15 6-20 * *' not understood"),
        ("--schedule", "0 0 31 2 *", "schedule '0 0 31 2 *' never fires"),
        ("--timezone", "Europe/Atlantis", "time zone 'Europe/Atlantis' unknown"),
    ],
)
def test_a_schedule_or_zone_that_does_not_read_is_one_line_exit_2(
    cli: Cli, sandboxes: Sandboxes, flag: str, value: str, said: str
) -> None:
    refused = cli(
        "connection",
        "add",
        *sandboxes.add_args("acme", **{"--qad-password": None}),
        flag,
        value,
    )
    assert refused.exit_code == 2
    assert said in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "password" not in refused.stderr.lower()  # refused before the prompt

    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    edited = cli("connection", "edit", "acme", flag, value)
    assert edited.exit_code == 2
    assert said in edited.stderr
    assert len(edited.stderr.strip().splitlines()) == 1


def test_pause_and_resume_skip_the_scheduler_show_paused_and_are_in_the_trail(
    connected: Cli,
) -> None:
    cli = connected
    cli.ok("connection", "edit", "acme", "--schedule", "every 15m")
    before = cli.json("audit", "acme", "connection")  # empty, not "no record"
    assert (before["record"], before["events"]) == ("connection", [])
    paused = cli.ok("connection", "pause", "acme", "--actor", "ops:ada")
    assert "Paused connection acme" in paused.stdout
    assert "already paused" in cli.ok("connection", "pause", "acme").stdout

    assert cli.json("connection", "show", "acme")["paused"] is True
    line = cli.json("status")["connections"][0]
    assert (line["paused"], line["next_run_at"], line["next_run_note"]) == (True, None, "paused")
    assert "paused" in cli.ok("status").stdout
    assert "every 15m, paused" in cli.ok("connection", "list").stdout

    turn = cli.ok("run", "--once")
    assert "acme: skipped: paused: `connection resume acme`" in turn.stderr
    assert cli.json("runs", "acme")["runs"] == []

    # By hand it still syncs, and says the connection is paused.
    by_hand = cli("sync", "acme", "--json")
    assert by_hand.exit_code in (0, 1)
    assert json.loads(by_hand.stdout)["counters"]["purchase_orders"] > 0
    assert "connection acme is paused" in by_hand.stderr

    resumed = cli.ok("connection", "resume", "acme", "--actor", "ops:bob")
    assert "Resumed connection acme" in resumed.stdout
    assert cli.json("status")["connections"][0]["next_run_at"] is not None
    trail = cli.json("audit", "acme", "connection")
    assert trail["record"] == "connection"
    assert [(e["event"], e["actor"]) for e in trail["events"]] == [
        ("paused", "ops:ada"),
        ("resumed", "ops:bob"),
    ]
    assert cli.json("audit", "verify", "acme")["intact"] is True


def test_pausing_an_unknown_connection_is_exit_2(cli: Cli) -> None:
    refused = cli("connection", "pause", "nobody")
    assert refused.exit_code == 2
    assert "no connection named 'nobody'" in refused.stderr
