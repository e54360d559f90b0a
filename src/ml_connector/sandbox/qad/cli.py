"""`ml-connector sandbox qad` (placeholder until the QAD sandbox lands)."""

import typer


def serve_qad() -> None:
    """Serve the QAD sandbox."""
    raise typer.Exit(2)
