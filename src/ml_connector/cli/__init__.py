"""The ``ml-connector`` command: options (``app``), tables and JSON (``views``), printing and
the error boundary that maps exceptions to exit codes (``console``)."""

from ml_connector.cli.app import app, main

__all__ = ["app", "main"]
