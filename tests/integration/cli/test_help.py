from typer.testing import CliRunner

from ml_connector.cli import app


def test_help_lists_the_sandbox_commands() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "cin7" in result.output
    assert "qad" in result.output
