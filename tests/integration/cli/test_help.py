import logging
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ml_connector.cli import app


def test_help_lists_the_sandbox_commands() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "cin7" in result.output
    assert "qad" in result.output


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


def test_no_help_page_shows_a_type_for_a_boolean_flag() -> None:
    root = typer.main.get_command(app)
    pages = _commands(root)
    assert len(pages) > 30
    for path in pages:
        result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path


@pytest.mark.parametrize("args", [[], ["connection"], ["alert"]])
def test_a_group_without_a_command_prints_its_help_once(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, prog_name="ml-connector", terminal_width=120)
    assert result.stdout.count("Usage:") == 1, result.stdout
    assert "Commands" in result.stdout
    assert result.stderr == ""


def test_a_docstring_paragraph_is_wrapped_by_the_terminal_not_by_its_source() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    # one paragraph of the docstring, written over three source lines: one line at 200 columns
    assert (
        "Connections without a schedule are left to `ml-connector sync`, paused ones until "
        "`connection resume`; a connection whose credentials were refused is skipped"
    ) in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync"], "ml-connector sync: Missing argument 'name'."),
        (["sync", "acme", "--bogus"], "ml-connector sync: No such option: --bogus"),
        (["nosuch"], "ml-connector: No such command 'nosuch'."),
        (["records", "acme", "--limit", "x"], "ml-connector records: Invalid value"),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args, prog_name="ml-connector")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert lines[0].endswith("--help')")


def test_verbose_is_accepted_after_the_sub_command(tmp_path: Path) -> None:
    env = {"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_DATABASE_URL": None}
    after = CliRunner().invoke(app, ["connection", "list", "-v"], env=env)
    assert after.exit_code == 0, after.stderr
    assert "INFO" in after.stderr  # the logging switched on
    quiet = CliRunner().invoke(app, ["connection", "list"], env=env)
    assert quiet.exit_code == 0
    assert "INFO" not in quiet.stderr


def test_verbose_run_shows_each_turn_once(tmp_path: Path) -> None:
    env = {
        "ML_CONNECTOR_HOME": str(tmp_path),
        "ML_CONNECTOR_DATABASE_URL": None,
        "ML_CONNECTOR_CIN7_APPLICATION_KEY": "key",
        "ML_CONNECTOR_QAD_PASSWORD": "password",
    }
    added = CliRunner().invoke(
        app,
        [
            "connection", "add", "acme", "--cin7-account-id", "a",
            "--qad-url", "https://qad.invalid/clouderp", "--qad-client-id", "c",
            "--qad-username", "u", "--qad-domain", "D", "--qad-entity", "E",
        ],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr

    result = CliRunner().invoke(app, ["run", "--once", "-v"], env=env)

    assert result.exit_code == 0, result.stderr
    # -v is on: the stderr handler passes INFO records (the turn is one, left out there
    # because the command printed its line already)
    assert logging.INFO in {handler.level for handler in logging.getLogger().handlers}
    turns = [line for line in result.stderr.splitlines() if "acme: skipped" in line]
    assert len(turns) == 1, result.stderr
    assert turns[0].endswith("acme: skipped: no schedule: sync it by hand")
