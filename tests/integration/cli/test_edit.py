"""`connection edit NAME [the flags of add]`: credentials, URLs, schedule and options change in
place; records, audit trail and mappings stay; a new password is the one used from then on."""

from __future__ import annotations

import re

from cli_helpers import Cli, Sandboxes


def _options(text: str) -> set[str]:
    return set(re.findall(r"--[a-z0-9-]+", text))


def _records(cli: Cli) -> list[dict[str, object]]:
    """The records, without their age (which grows while the test runs)."""
    return [
        {k: v for k, v in r.items() if k != "age_s"}
        for r in cli.json("records", "acme", "--limit", "0")["records"]
    ]


def test_edit_changes_credentials_and_keeps_everything_recorded(
    connected: Cli, sandboxes: Sandboxes
) -> None:
    cli = connected
    cli("sync", "acme")
    records = _records(cli)
    mappings = cli.json("mapping", "list", "acme")["mappings"]
    reference = records[0]["reference"]
    trail = cli.json("audit", "acme", reference)["events"]
    assert records
    assert mappings
    assert trail

    changed = cli.ok("connection", "edit", "acme", "--qad-password", "not-the-password")
    assert "Changed qad_password of connection acme" in changed.stdout
    refused = cli("connection", "test", "acme")
    assert refused.exit_code == 3  # the new password is the one QAD sees
    assert "QAD" in refused.stdout
    assert "bad credentials" in refused.stdout

    cli.ok("connection", "edit", "acme", "--qad-password", sandboxes.tenant.password)
    assert cli("connection", "test", "acme").exit_code == 0

    assert _records(cli) == records
    assert cli.json("mapping", "list", "acme")["mappings"] == mappings
    assert cli.json("audit", "acme", reference)["events"] == trail
    assert cli.json("audit", "verify", "acme")["intact"] is True
    again = cli.json("sync", "acme", expect=1)
    assert again["counters"]["purchase_orders"] == 0  # nothing posted twice after the edit
    assert sandboxes.tenant.password not in cli.all_output()
    assert "not-the-password" not in cli.all_output()


def test_edit_changes_schedule_urls_and_options_in_place(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    before = cli.json("connection", "show", "acme")

    cli.ok(
        "connection",
        "edit",
        "acme",
        "--schedule",
        "every 1h",
        "--cin7-rate-limit",
        "500",
        "--qad-site",
        "10-100",
        "--create-missing-items",
        "--qad-daybook",
        "APINV",
    )
    shown = cli.json("connection", "show", "acme")
    assert shown["id"] == before["id"]
    assert shown["created_at"] == before["created_at"]
    assert (shown["schedule"], shown["qad_site"], shown["qad_daybook"]) == (
        "every 1h",
        "10-100",
        "APINV",
    )
    assert shown["options"] == {"cin7_rate_limit": 500, "create_missing_items": True}
    assert shown["qad_url"] == before["qad_url"]

    cli.ok("connection", "edit", "acme", "--schedule", "", "--no-create-missing-items")
    shown = cli.json("connection", "show", "acme")
    assert shown["schedule"] is None
    assert shown["options"] == {"cin7_rate_limit": 500}

    nothing = cli.ok("connection", "edit", "acme")
    assert "Changed nothing" in nothing.stdout


def test_edit_refuses_bad_settings_and_changes_nothing(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    before = cli.json("connection", "show", "acme")
    for flags, says in (
        (["--qad-url", "http://qad.example.com/clouderp"], "https"),
        (["--no-allow-local"], "local or private"),
        (["--schedule", "hourly"], "every 15m"),
        (["--qad-domain", ""], "--qad-domain"),
    ):
        result = cli("connection", "edit", "acme", *flags)
        assert result.exit_code == 2, flags
        assert says in result.stderr, (flags, result.stderr)
        assert result.stderr.count("\n") == 1
    assert cli.json("connection", "show", "acme") == before

    ghost = cli("connection", "edit", "ghost", "--schedule", "every 1h")
    assert ghost.exit_code == 2
    assert ghost.stderr == "error: no connection named 'ghost'\n"


def test_add_and_edit_take_the_same_flags(cli: Cli) -> None:
    add = _options(cli.ok("connection", "add", "--help").stdout)
    edit = _options(cli.ok("connection", "edit", "--help").stdout)
    assert add == edit
    assert {"--qad-url", "--qad-password", "--schedule", "--cin7-rate-limit"} <= add


def test_add_names_what_it_still_needs(cli: Cli, sandboxes: Sandboxes) -> None:
    result = cli("connection", "add", *sandboxes.add_args("acme", **{"--qad-entity": None}))
    assert result.exit_code == 2
    assert result.stderr == "error: to add a connection give --qad-entity\n"


def test_accounts_payable_settings_are_flags_of_add_and_edit(
    cli: Cli, sandboxes: Sandboxes
) -> None:
    cli.ok(
        "connection",
        "add",
        *sandboxes.add_args(
            "acme", **{"--over-receipt-pct": "5", "--qad-invoice-status": "AP-NOALLOC"}
        ),
    )
    cli.ok(
        "connection",
        "edit",
        "acme",
        "--price-tolerance-pct",
        "2.5",
        "--price-tolerance-amount",
        "0.05",
        "--rounding",
        "half-even",
    )

    shown = cli.json("connection", "show", "acme")

    assert shown["qad_invoice_status"] == "AP-NOALLOC"
    assert {k: str(v) for k, v in shown["options"].items() if k != "cin7_rate_limit"} == {
        "over_receipt_pct": "5",
        "price_tolerance_pct": "2.5",
        "price_tolerance_amount": "0.05",
        "rounding": "half-even",
    }
    negative = cli("connection", "edit", "acme", "--over-receipt-pct", "-1")
    assert negative.exit_code == 2
    assert "over_receipt_pct" in negative.stderr or "--over-receipt-pct" in negative.stderr
    assert cli("connection", "edit", "acme", "--rounding", "up").exit_code == 2
