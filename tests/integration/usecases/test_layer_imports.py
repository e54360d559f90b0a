"""The use cases load no command line: a web console or job worker importing them must not drag in
Typer or the CLI's printing."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_use_cases_loads_no_command_line() -> None:
    probe = (
        "import sys, ml_connector.usecases; "
        "print(sorted(m for m in sys.modules if m == 'typer' or m.startswith('ml_connector.cli')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_rest_profile_sync_loads_no_qxtend() -> None:
    """QXtend's QDoc builders and lxml load only for a profile that routes to QXtend: a REST
    tenant's sync pass (and `ml-connector run`, which imports the fit use case) never pays for
    them."""
    probe = (
        "import sys\n"
        "import ml_connector.usecases, ml_connector.usecases.fit, ml_connector.runner\n"
        "import ml_connector.qad.routing\n"
        "print(sorted(m for m in sys.modules if m == 'lxml' or '.qxtend' in m))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
