"""`ml-connector sandbox cin7` (placeholder until the Cin7 sandbox lands)."""

import typer


def serve_cin7() -> None:
    """Serve the Cin7 Core sandbox."""
    raise typer.Exit(2)
