#!/usr/bin/env python3
"""The README's two commands on a fresh machine: `./dev.py demo` and `./dev.py test`.

Each sets up what is missing first, using only Python's own `venv` and `pip`: a virtual
environment in `.venv` (or `$DEV_VENV`) with the project installed editable with its `dev` extra.
Setup runs when the environment is missing or `pyproject.toml` changed since it last ran (a stamp
in the environment records the file's hash and the Python version), and is skipped otherwise, so
both commands start at once after the first run.

    ./dev.py demo [ARGS…]    `ml-connector demo ARGS…`: both sandboxes in-process, a full sync
    ./dev.py test [ARGS…]    pytest ARGS…; with no ARGS, the whole suite and the coverage gate
    ./dev.py setup           only the setup (CI lints with the environment before testing)

With no pytest arguments `test` runs every tier and then holds coverage of the planner, `cin7/`
and `qad/` to the floors in COVERAGE_GATES (measured, minus a small margin): this is what CI runs.
With arguments (`-m unit`, a folder, `-k …`) it runs just those, without coverage, so the inner
loop stays fast. The script needs nothing beyond the standard library, so it runs before the
project is installed; its syntax is old enough to say so plainly on an older interpreter.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PYPROJECT = ROOT / "pyproject.toml"
STAMP = ".dev-setup"
MINIMUM_PYTHON = (3, 11)

# Coverage floors (percent of statements and branches) for the code whose mistakes post wrong
# money or lose calls: measured on the whole suite, minus about two points so that unrelated
# changes do not trip them. Measured 2026-12: plan.py 99.6, cin7/ 96.3, qad/ 94.3-95.4 (without
# qad/fake.py, the in-memory double, omitted in pyproject).
COVERAGE_GATES: dict[str, float] = {
    "src/ml_connector/sync/plan.py": 98.0,
    "src/ml_connector/cin7/*": 94.0,
    "src/ml_connector/qad/*": 93.0,
}

# The whole suite runs on pytest-xdist workers, one per core and at most four: most tests wait on
# sockets, subprocesses and PostgreSQL, so the wall time roughly halves on two cores (each worker
# gets its own throwaway PostgreSQL database). `worksteal` rather than xdist's default `load`:
# `load` hands each worker its share of the first quarter of the suite up front, end-to-end tests
# of a minute or more among them, and the run ends when the worker with the heavier share does;
# with `worksteal` an idle worker takes half of a busy worker's queue. The twenty slowest tests
# are listed at the end so that CI's time budget (15 minutes) stays visible.
WHOLE_SUITE = [
    "--numprocesses",
    "auto",
    "--maxprocesses",
    "4",
    "--dist",
    "worksteal",
    "--durations",
    "20",
]


def venv_dir(environ: dict[str, str]) -> Path:
    """Where the environment lives: `$DEV_VENV`, else `.venv` beside this script."""
    given = environ.get("DEV_VENV")
    return Path(given) if given else ROOT / ".venv"


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def wanted_stamp(pyproject: bytes, version: Sequence[int]) -> str:
    """What the stamp must say for the environment to be current."""
    digest = hashlib.sha256(pyproject).hexdigest()
    return f"python {version[0]}.{version[1]} pyproject {digest}\n"


def needs_setup(env: Path, pyproject: bytes, version: Sequence[int]) -> str | None:
    """Why the environment must be (re)built, or None when it is current."""
    python = bin_dir(env) / "python"
    if not python.exists():
        return f"no environment at {env}"
    stamp = env / STAMP
    if not stamp.exists():
        return "the environment was not set up by this script"
    if stamp.read_text() != wanted_stamp(pyproject, version):
        return "pyproject.toml or the Python version changed"
    return None


def set_up(env: Path, reason: str) -> None:
    """Create the environment if absent, install the project editable with `dev`, stamp it."""
    print(f"dev.py: setting up {env} ({reason})", file=sys.stderr)
    if not (bin_dir(env) / "python").exists():
        venv.EnvBuilder(with_pip=True).create(env)
    python = str(bin_dir(env) / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--editable", f"{ROOT}[dev]"],
        check=True,
    )
    (env / STAMP).write_text(wanted_stamp(PYPROJECT.read_bytes(), sys.version_info))


def test_steps(env: Path, args: Sequence[str]) -> list[tuple[str, list[str]]]:
    """What `test ARGS…` runs, in order, each with the label it prints: pytest, then (whole
    suite only) the coverage table and one report per gate that fails under its floor."""
    python = str(bin_dir(env) / "python")
    pytest = [python, "-m", "pytest", *args]
    if args:
        return [("", pytest)]
    report = [python, "-m", "coverage", "report"]
    steps = [
        ("", [*pytest, *WHOLE_SUITE, "--cov", "--cov-report="]),
        ("", [*report, "--include", ",".join(COVERAGE_GATES)]),
    ]
    for include, floor in COVERAGE_GATES.items():
        gate = [*report, "--include", include, "--fail-under", str(floor), "--format", "total"]
        steps.append((f"coverage of {include} (floor {floor}%): ", gate))
    return steps


def run_steps(steps: Sequence[tuple[str, list[str]]]) -> int:
    """Run each step from the repository root; stop at the first failure."""
    for label, command in steps:
        print(label, end="", flush=True)
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        if code != 0:
            if label:
                print(f"dev.py: {label.rstrip(': ')} failed", file=sys.stderr)
            return code
    return 0


USAGE = "usage: ./dev.py demo [ARGS…] | ./dev.py test [PYTEST ARGS…] | ./dev.py setup"


def main(argv: Sequence[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        print(f"dev.py: ml-connector needs Python 3.11+, this is {sys.version.split()[0]}")
        return 2
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(USAGE, file=sys.stderr)
        return 2
    command, args = argv[0], list(argv[1:])
    env = venv_dir(dict(os.environ))
    reason = needs_setup(env, PYPROJECT.read_bytes(), sys.version_info)
    if reason is not None:
        set_up(env, reason)
    if command == "setup":
        return 0
    if command == "demo":
        return run_steps([("", [str(bin_dir(env) / "ml-connector"), "demo", *args])])
    return run_steps(test_steps(env, args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
