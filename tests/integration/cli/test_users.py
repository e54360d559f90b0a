"""`ml-connector user add|list|remove|passwd|log`: passwords from a file or a hidden prompt."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Cli

PASSWORD = "correct horse battery"


def _password_file(tmp_path: Path, text: str = PASSWORD + "\n") -> str:
    path = tmp_path / "pw"
    path.write_text(text)
    return str(path)


def test_add_list_and_log_never_show_the_password(cli: Cli, tmp_path: Path) -> None:
    cli.ok("user", "add", "ada", "--role", "admin", "--password-file", _password_file(tmp_path))
    cli.ok("user", "add", "bob", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")

    listed = cli.json("user", "list")
    assert [(u["name"], u["role"]) for u in listed["users"]] == [
        ("ada", "admin"),
        ("bob", "viewer"),
    ]
    log = cli.json("user", "log")
    assert [(e["event"], e["user"]) for e in log["events"]] == [
        ("user-added", "bob"),
        ("user-added", "ada"),
    ]
    assert log["events"][0]["actor"].startswith("cli:")
    assert PASSWORD not in cli.all_output()
    table = cli.ok("user", "list").stdout
    assert "ada" in table
    assert "admin" in table


def test_the_prompt_asks_twice_and_refuses_a_mismatch(cli: Cli) -> None:
    refused = cli("user", "add", "ada", "--role", "admin", input=f"{PASSWORD}\nother one\n")
    assert refused.exit_code != 0
    assert cli.json("user", "list")["users"] == []


def test_bad_role_name_or_password_and_a_taken_name_exit_2_with_one_line(
    cli: Cli, tmp_path: Path
) -> None:
    good = _password_file(tmp_path)
    short = tmp_path / "short"
    short.write_text("tiny\n")
    bad_role = cli("user", "add", "ada", "--role", "root", "--password-file", good)
    assert bad_role.exit_code == 2
    assert "unknown role" in bad_role.stderr
    bad_name = cli("user", "add", "a b", "--role", "viewer", "--password-file", good)
    assert bad_name.exit_code == 2
    too_short = cli("user", "add", "ada", "--role", "viewer", "--password-file", str(short))
    assert too_short.exit_code == 2
    assert "too short" in too_short.stderr
    assert "tiny" not in too_short.stderr
    missing = cli("user", "add", "ada", "--role", "viewer", "--password-file", str(tmp_path / "x"))
    assert missing.exit_code == 2
    cli.ok("user", "add", "ada", "--role", "viewer", "--password-file", good)
    taken = cli("user", "add", "ada", "--role", "admin", "--password-file", good)
    assert taken.exit_code == 2
    assert "already exists" in taken.stderr
    assert len(taken.stderr.strip().splitlines()) == 1


def test_passwd_and_remove(cli: Cli, tmp_path: Path) -> None:
    cli.ok("user", "add", "ada", "--role", "operator", "--password-file", _password_file(tmp_path))
    new = tmp_path / "new"
    new.write_text("a brand new password\n")

    cli.ok("user", "passwd", "ada", "--password-file", str(new))
    assert cli("user", "passwd", "nobody", "--password-file", str(new)).exit_code == 2
    assert cli("user", "remove", "ada", input="n\n").exit_code == 2
    cli.ok("user", "remove", "ada", "--yes")
    assert cli("user", "remove", "ada", "--yes").exit_code == 2

    assert cli.json("user", "list")["users"] == []
    events = [e["event"] for e in cli.json("user", "log", "--user", "ada")["events"]]
    assert events == ["user-removed", "password-changed", "user-added"]
    assert "a brand new password" not in cli.all_output()
