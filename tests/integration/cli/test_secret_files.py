"""Secrets from files (`--cin7-application-key-file`, `--qad-password-file`), and the one
warning line when a secret arrives as a flag, where `ps` and the shell history show it."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Cli, Sandboxes

NO_SECRET_FLAGS = {"--qad-password": None, "--cin7-application-key": None}


def test_secrets_read_from_files_work_and_warn_nothing(
    cli: Cli, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    key_file = tmp_path / "cin7.key"
    key_file.write_text(sandboxes.cin7.application_key + "\n")
    password_file = tmp_path / "qad.password"
    password_file.write_text(sandboxes.tenant.password + "\n")

    added = cli.ok(
        "connection",
        "add",
        *sandboxes.add_args("files", **NO_SECRET_FLAGS),
        "--cin7-application-key-file",
        str(key_file),
        "--qad-password-file",
        str(password_file),
    )

    assert "warning" not in added.stderr
    assert cli("connection", "test", "files").exit_code == 0  # the newline was not kept


def test_a_secret_given_as_a_flag_warns_once_on_stderr(cli: Cli, sandboxes: Sandboxes) -> None:
    added = cli.ok(
        "connection",
        "add",
        *sandboxes.add_args("flagged", **{"--cin7-application-key": None}),
        ML_CONNECTOR_CIN7_APPLICATION_KEY=sandboxes.cin7.application_key,
    )

    warnings = [line for line in added.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "--qad-password" in warnings[0]
    assert "--qad-password-file" in warnings[0]
    assert sandboxes.tenant.password not in added.stderr + added.stdout


def test_a_secret_from_the_environment_does_not_warn(cli: Cli, sandboxes: Sandboxes) -> None:
    added = cli.ok(
        "connection",
        "add",
        *sandboxes.add_args("viaenv", **NO_SECRET_FLAGS),
        ML_CONNECTOR_QAD_PASSWORD=sandboxes.tenant.password,
        ML_CONNECTOR_CIN7_APPLICATION_KEY=sandboxes.cin7.application_key,
    )
    assert "warning" not in added.stderr


def test_a_flag_and_a_file_together_or_an_empty_file_are_refused(
    cli: Cli, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    password_file = tmp_path / "qad.password"
    password_file.write_text("x")
    both = cli(
        "connection",
        "add",
        *sandboxes.add_args("both"),
        "--qad-password-file",
        str(password_file),
    )
    assert both.exit_code == 2
    assert "not both" in both.stderr

    empty = tmp_path / "empty"
    empty.write_text("\n")
    refused = cli(
        "connection",
        "add",
        *sandboxes.add_args("empty", **{"--qad-password": None}),
        "--qad-password-file",
        str(empty),
    )
    assert refused.exit_code == 2
    assert "is empty" in refused.stderr
