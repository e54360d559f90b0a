"""`ml-connector alert add|list|test|remove`: destinations are write-only secrets, a test notice
reaches a local webhook receiver and SMTP sink, and a failed delivery exits 4."""

from __future__ import annotations

from pathlib import Path

from alert_sinks import smtp_sink, webhook_receiver
from cli_helpers import Cli


def _in_database_files(cli: Cli, needle: bytes) -> bool:
    """Whether ``needle`` is in the SQLite database or its write-ahead log."""
    files = cli.home.glob(cli.database.name + "*")
    return any(needle in path.read_bytes() for path in files if path.is_file())


def test_webhook_alert_from_add_to_remove(connected: Cli, tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        url_file = tmp_path / "hook.txt"
        url_file.write_text(hook.url + "\n")
        added = connected.ok(
            "alert", "add", "acme", "--webhook-url-file", str(url_file),
            "--on", "failed,credentials,no-sync:3,hold:5,audit",
        )  # fmt: skip
        assert "Added alert 1 on acme: webhook" in added.stdout

        doc = connected.json("alert", "list", "acme")
        (rule,) = doc["alerts"]
        assert rule["target"] == "stored, encrypted"
        assert rule["conditions"] == ["failed", "credentials", "no-sync:3", "hold:5", "audit"]
        assert "stored, encrypted" in connected.ok("alert", "list", "acme").stdout

        tested = connected.ok("alert", "test", "acme")
        assert "test notice delivered" in tested.stdout
        assert [(n["condition"], n["state"]) for n in hook.received] == [("test", "test")]

        assert "Re-encrypted 3 stored secrets" in connected.ok("keys", "rotate").stdout
        connected.ok("alert", "test", "acme", "1")
        assert len(hook.received) == 2

        hook.status = 500
        failed = connected("alert", "test", "acme")
        assert failed.exit_code == 4
        assert "delivery failed: HTTP 500" in failed.stdout

        connected.ok("alert", "remove", "acme", "1")
        assert connected.json("alert", "list", "acme")["alerts"] == []
        assert connected("alert", "remove", "acme", "1").exit_code == 2

        assert "SECRET" not in connected.all_output()
        assert not _in_database_files(connected, b"SECRET")


def test_email_alert_test_notice(connected: Cli, tmp_path: Path) -> None:
    with smtp_sink() as mail:
        password_file = tmp_path / "smtp.txt"
        password_file.write_text("smtp-PASS-SECRET\n")
        connected.ok(
            "alert", "add", "acme", "--email", "ops@example.test",
            "--smtp-host", mail.host, "--smtp-port", str(mail.port),
            "--smtp-user", "alerts", "--smtp-password-file", str(password_file),
            "--from", "connector@example.test", "--on", "credentials",
        )  # fmt: skip
        connected.ok("alert", "test", "acme")
        (message,) = mail.messages
        assert message["To"] == "ops@example.test"
        assert message["Subject"].startswith("[TEST] ml-connector acme")
        assert connected.json("alert", "list", "acme")["alerts"][0]["channel"] == "email"
        assert "SECRET" not in connected.all_output()
        assert not _in_database_files(connected, b"SECRET")


def test_a_webhook_url_given_as_a_flag_is_stored_with_one_warning(connected: Cli) -> None:
    added = connected.ok(
        "alert", "add", "acme", "--webhook-url", "http://127.0.0.1:9/hooks/SECRET",
        "--on", "failed",
    )  # fmt: skip
    assert "Added alert 1 on acme: webhook" in added.stdout
    (warning,) = added.stderr.strip().splitlines()
    assert warning.startswith("warning: --webhook-url on the command line is visible")
    assert "SECRET" not in added.stderr
    from_file = connected("alert", "add", "acme", "--webhook-url", "", "--on", "failed")
    assert from_file.exit_code == 2  # an empty URL is refused, not stored


def test_bad_alert_options_are_usage_errors(connected: Cli) -> None:
    bad = connected("alert", "add", "acme", "--webhook-url", "http://127.0.0.1:9/x", "--on", "x")
    assert bad.exit_code == 2
    assert "not understood" in bad.stderr
    none = connected("alert", "add", "acme", "--on", "failed")
    assert none.exit_code == 2
    assert connected("alert", "test", "acme").exit_code == 2  # no alerts yet
