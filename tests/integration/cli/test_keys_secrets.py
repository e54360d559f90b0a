"""`keys rotate` keeps connections working; a planted secret shows up nowhere in plain text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cli_helpers import Cli, Sandboxes, start_sandboxes

from ml_connector.vault import Vault

PLANTED_PASSWORD = "PLANTED-SECRET-9f3b"
PLANTED_KEY = "planted-cin7-key-5d1e7a"


def test_rotate_with_key_file(connected: Cli) -> None:
    key_file = connected.home / "master.key"
    old = key_file.read_text()
    result = connected.ok("keys", "rotate")
    assert "Re-encrypted 2 stored secrets" in result.stdout
    assert str(key_file) in result.stdout
    new = key_file.read_text()
    assert new != old
    assert new.strip() not in result.stdout  # a key file's key is never printed
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert connected("connection", "test", "acme").exit_code == 0


def test_rotate_with_key_in_environment_prints_it_once(cli: Cli, sandboxes: Sandboxes) -> None:
    old_key = Vault.generate_key()
    cli.ok("connection", "add", *sandboxes.add_args("acme"), ML_CONNECTOR_MASTER_KEY=old_key)
    result = cli.ok("keys", "rotate", ML_CONNECTOR_MASTER_KEY=old_key)
    new_key = next(line for line in result.stdout.splitlines() if len(line) == 44)
    assert result.stdout.count(new_key) == 1
    assert "ML_CONNECTOR_MASTER_KEY" in result.stdout
    assert "Re-encrypted 2 stored secrets" in result.stdout
    assert not (cli.home / "master.key").exists()  # nothing written to disk

    stale = cli("connection", "test", "acme", ML_CONNECTOR_MASTER_KEY=old_key)
    assert stale.exit_code == 2
    assert "cannot be decrypted" in stale.stderr
    assert old_key not in stale.stderr
    assert new_key not in stale.stderr
    assert cli("connection", "test", "acme", ML_CONNECTOR_MASTER_KEY=new_key).exit_code == 0
    for other in cli.results[:-1]:
        if other is not result:
            assert new_key not in other.stdout + other.stderr


@pytest.fixture
def planted() -> Sandboxes:
    with start_sandboxes(application_key=PLANTED_KEY, qad_password=PLANTED_PASSWORD) as boxes:
        yield boxes


def test_planted_secret_appears_nowhere(
    cli: Cli, planted: Sandboxes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert planted.tenant.password == PLANTED_PASSWORD
    args = planted.add_args("acme")
    cli.ok("connection", "add", *args)
    cli("connection", "add", *planted.add_args("bad", **{"--qad-url": "http://qad.example.com"}))
    cli.ok(
        "connection", "add", *planted.add_args("wrong", **{"--qad-url": f"{planted.qad_root}/x/y"})
    )
    for command in (
        ["connection", "list"],
        ["connection", "list", "--json"],
        ["connection", "show", "acme"],
        ["connection", "show", "acme", "--json"],
        ["--verbose", "connection", "test", "acme"],
        ["connection", "test", "acme", "--json"],
        ["connection", "test", "wrong"],
        ["mapping", "suggest", "acme", "--apply"],
        ["mapping", "list", "acme"],
        ["mapping", "export", "acme"],
        ["sync", "acme", "--dry-run"],
        ["--verbose", "sync", "acme"],
        ["sync", "acme", "--json"],
        ["records", "acme", "--json"],
        ["records", "acme"],
        ["holds", "acme", "--json"],
        ["reconcile", "acme", "--json"],
        ["audit", "acme", "PO-00001", "--json"],
        ["audit", "verify", "acme"],
        ["replay", "acme", "--failed", "--blocked", "--json"],
        ["keys", "rotate"],
        ["connection", "test", "acme"],
    ):
        cli(*command)
    output = cli.all_output()
    assert "Cin7 Core" in output
    assert "purchase:PO-00001" in output
    assert PLANTED_PASSWORD not in output
    assert PLANTED_KEY not in output.lower()

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged, "the verbose runs logged something"
    assert PLANTED_PASSWORD not in logged
    assert PLANTED_KEY not in logged.lower()

    files = [p for p in cli.home.iterdir() if p.is_file()]
    assert any(p.name == "ml-connector.db" for p in files)
    for path in files:
        data = path.read_bytes()
        assert PLANTED_PASSWORD.encode() not in data, path
        assert PLANTED_KEY.encode() not in data.lower(), path
