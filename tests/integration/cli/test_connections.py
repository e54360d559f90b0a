"""`connection add | list | show | test | remove`, `db upgrade`, and the exit-code contract."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli, Sandboxes


def test_add_list_show_never_print_secrets(cli: Cli, sandboxes: Sandboxes) -> None:
    added = cli.ok("connection", "add", *sandboxes.add_args("acme", **{"--schedule": "every 15m"}))
    assert "Added connection acme" in added.stdout

    listed = cli.json("connection", "list")
    assert [c["name"] for c in listed["connections"]] == ["acme"]
    assert listed["connections"][0]["schedule"] == "every 15m"
    assert "acme" in cli.ok("connection", "list").stdout

    shown = cli.json("connection", "show", "acme")
    assert shown["qad_url"] == sandboxes.qad_url
    assert shown["qad_password"] == "stored, encrypted"
    assert shown["cin7_application_key"] == "stored, encrypted"
    assert shown["options"] == {"cin7_rate_limit": 100000}
    table = cli.ok("connection", "show", "acme").stdout
    assert "stored, encrypted" in table

    output = cli.all_output()
    assert sandboxes.tenant.password not in output
    assert sandboxes.cin7.application_key not in output


def test_secrets_from_environment_or_prompt(cli: Cli, sandboxes: Sandboxes) -> None:
    from_env = sandboxes.add_args(
        "viaenv", **{"--qad-password": None, "--cin7-application-key": None}
    )
    cli.ok(
        "connection",
        "add",
        *from_env,
        ML_CONNECTOR_QAD_PASSWORD=sandboxes.tenant.password,
        ML_CONNECTOR_CIN7_APPLICATION_KEY=sandboxes.cin7.application_key,
    )
    assert cli("connection", "test", "viaenv").exit_code == 0

    typed = f"{sandboxes.cin7.application_key}\n{sandboxes.tenant.password}\n"
    result = cli.ok(
        "connection",
        "add",
        *sandboxes.add_args("prompted", **{"--qad-password": None, "--cin7-application-key": None}),
        input=typed,
    )
    assert sandboxes.tenant.password not in result.stdout  # hidden input is not echoed
    assert cli("connection", "test", "prompted").exit_code == 0

    missing = cli("connection", "add", *sandboxes.add_args("nokey", **{"--qad-password": None}))
    assert missing.exit_code == 2
    assert "--qad-password is missing" in missing.stderr
    assert "ML_CONNECTOR_QAD_PASSWORD" in missing.stderr


@pytest.mark.parametrize(
    ("url", "local", "says"),
    [
        ("http://qad.example.com/clouderp", False, "https"),
        ("https://user:pw@qad.example.com/clouderp", False, "credentials"),
        ("http://127.0.0.1:9/acme/clouderp", False, "local or private"),
        ("ftp://qad.example.com/clouderp", True, "https://"),
    ],
)
def test_add_refuses_bad_qad_urls_before_storing(
    cli: Cli, sandboxes: Sandboxes, url: str, local: bool, says: str
) -> None:
    args = sandboxes.add_args("acme", **{"--qad-url": url})
    if not local:
        args.remove("--allow-local")
    result = cli("connection", "add", *args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert result.stderr.count("\n") == 1  # one readable line
    assert cli.json("connection", "list")["connections"] == []


def test_add_refuses_bad_settings(cli: Cli, sandboxes: Sandboxes) -> None:
    cin7_url = cli(
        "connection",
        "add",
        *sandboxes.add_args(
            "acme", **{"--cin7-base-url": "http://cin7.example.com/ExternalApi/v2/"}
        ),
    )
    assert cin7_url.exit_code == 2
    assert "Cin7 base URL" in cin7_url.stderr

    schedule = cli("connection", "add", *sandboxes.add_args("acme", **{"--schedule": "hourly"}))
    assert schedule.exit_code == 2
    assert "every 15m" in schedule.stderr

    bad_name = cli("connection", "add", *sandboxes.add_args("no spaces allowed"))
    assert bad_name.exit_code == 2
    assert "NAME" in bad_name.stderr
    assert sandboxes.tenant.password not in bad_name.stderr

    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    again = cli("connection", "add", *sandboxes.add_args("acme"))
    assert again.exit_code == 2
    assert "already exists" in again.stderr


def test_connection_test_good(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    result = cli.ok("connection", "test", "acme")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Cin7 Core")
    assert " ok " in lines[0]
    assert lines[1].startswith("QAD")
    assert " ok " in lines[1]
    doc = cli.json("connection", "test", "acme")
    assert doc["ok"] is True
    assert [v["system"] for v in doc["verdicts"]] == ["cin7", "qad"]


@pytest.mark.parametrize(
    ("override", "code", "failing", "says"),
    [
        ({"--cin7-application-key": "not-the-key"}, 3, "Cin7 Core", "bad credentials"),
        ({"--qad-password": "not-the-password"}, 3, "QAD", "bad credentials"),
        ({"--qad-client-id": "0" * 32}, 3, "QAD", "bad credentials"),
        ("wrong-tenant", 2, "QAD", "wrong tenant URL"),
    ],
)
def test_connection_test_says_which_side_fails(
    cli: Cli, sandboxes: Sandboxes, override: object, code: int, failing: str, says: str
) -> None:
    if override == "wrong-tenant":
        override = {"--qad-url": f"{sandboxes.qad_root}/nosuchtenant/clouderp"}
    assert isinstance(override, dict)
    cli.ok("connection", "add", *sandboxes.add_args("acme", **override))
    result = cli("connection", "test", "acme")
    assert result.exit_code == code
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert failed[0].startswith(failing)
    assert says in failed[0]
    ok = [line for line in result.stdout.splitlines() if " ok " in line]
    assert len(ok) == 1  # the other side is fine and says so

    listed = cli.json("connection", "list")["connections"][0]
    assert listed["healthy"] is False
    assert listed["health_message"]


def test_unreachable_qad_exits_4(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok(
        "connection", "add", *sandboxes.add_args("acme", **{"--qad-url": "http://127.0.0.1:9/x"})
    )
    result = cli("connection", "test", "acme")
    assert result.exit_code == 4
    assert "unreachable" in result.stdout


def test_unknown_connection_is_a_usage_error(cli: Cli) -> None:
    for args in (
        ["connection", "show", "ghost"],
        ["connection", "test", "ghost"],
        ["sync", "ghost"],
        ["records", "ghost"],
        ["holds", "ghost"],
        ["reconcile", "ghost"],
        ["audit", "ghost", "PO-00001"],
        ["audit", "verify", "ghost"],
        ["replay", "ghost", "--failed"],
        ["mapping", "list", "ghost"],
    ):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert result.stderr == "error: no connection named 'ghost'\n", args
        assert result.stdout == ""


def test_remove(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    declined = cli("connection", "remove", "acme", input="n\n")
    assert declined.exit_code == 2
    assert len(cli.json("connection", "list")["connections"]) == 1
    cli.ok("connection", "remove", "acme", "--yes")
    assert cli.json("connection", "list")["connections"] == []
    assert cli("connection", "remove", "acme", "--yes").exit_code == 2


def test_db_upgrade_creates_the_database_in_the_home(cli: Cli) -> None:
    result = cli.ok("db", "upgrade")
    assert "up to date" in result.stdout
    assert cli.database.exists()
    assert json.loads(cli.ok("connection", "list", "--json").stdout) == {"connections": []}


def test_bad_database_url_is_a_configuration_error(cli: Cli) -> None:
    result = cli("connection", "list", ML_CONNECTOR_DATABASE_URL="mysql://u:hunter22@db/x")
    assert result.exit_code == 2
    assert "unsupported database URL" in result.stderr
    assert "hunter22" not in result.stderr


def test_remove_without_confirmation_input_keeps_the_connection(
    cli: Cli, sandboxes: Sandboxes
) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    result = cli("connection", "remove", "acme")  # no input at all
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert len(cli.json("connection", "list")["connections"]) == 1


def test_audit_usage_errors(cli: Cli) -> None:
    assert cli("audit", "acme").exit_code == 2
    assert cli("audit", "acme", "PO-1", "--verify").exit_code == 2
