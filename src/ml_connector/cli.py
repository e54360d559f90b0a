"""The `ml-connector` command line: one Typer app, one error boundary."""

from __future__ import annotations

import typer

from ml_connector.sandbox.cin7.cli import serve_cin7
from ml_connector.sandbox.qad.cli import serve_qad

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Cin7 Core purchasing into QAD Adaptive ERP, exactly once.",
)
sandbox_app = typer.Typer(
    no_args_is_help=True, help="Serve the local Cin7 Core and QAD simulators."
)
app.add_typer(sandbox_app, name="sandbox")
sandbox_app.command("cin7")(serve_cin7)
sandbox_app.command("qad")(serve_qad)


def main() -> None:
    app()
