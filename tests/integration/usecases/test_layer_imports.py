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
