"""What importing the use cases loads: a web console or job worker importing them must not drag
in Typer or the CLI's printing, and a REST tenant's sync must not load QXtend's modules."""

from __future__ import annotations

import subprocess
import sys


def _loaded(imports: str, which: str) -> str:
    """In a fresh interpreter: run ``imports``, then print the sorted modules ``which`` (a
    condition on ``m``) selects."""
    probe = f"import sys\n{imports}\nprint(sorted(m for m in sys.modules if {which}))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_use_cases_loads_no_command_line() -> None:
    which = "m == 'typer' or m.startswith('ml_connector.cli')"
    assert _loaded("import ml_connector.usecases", which) == "[]"


def test_a_rest_profile_sync_loads_no_qxtend() -> None:
    """QXtend's QDoc builders and lxml load only for a profile that routes to QXtend: a REST
    tenant's sync pass (and `ml-connector run`, which imports the fit use case) never pays for
    them."""
    imports = (
        "import ml_connector.usecases, ml_connector.usecases.fit, ml_connector.runner\n"
        "import ml_connector.qad.routing"
    )
    assert _loaded(imports, "m == 'lxml' or '.qxtend' in m") == "[]"
