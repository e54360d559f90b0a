"""`--schedule` takes cron beside intervals, `--timezone` the zone cron is read in; a schedule or
zone that does not read is one line naming the setting, exit 2, before any secret is asked."""

from __future__ import annotations

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
