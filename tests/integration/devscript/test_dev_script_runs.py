"""dev.py run as a newcomer runs it, in a subprocess, on an environment that is already current:
it must go straight to pytest with the given arguments and carry pytest's exit code back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dev_script import PATH, fake_venv


def run(env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PATH), *args],
        env={**os.environ, "DEV_VENV": str(env)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_test_with_arguments_runs_those_tests_without_setting_up(tmp_path: Path) -> None:
    fake_venv(tmp_path / "venv")
    done = run(tmp_path / "venv", "test", "tests/unit/schedule", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "setting up" not in done.stderr
    assert " passed" in done.stdout
    assert "Cover" not in done.stdout  # a selection runs without the coverage gate


def test_pytest_failure_is_the_command_s_failure(tmp_path: Path) -> None:
    fake_venv(tmp_path / "venv")
    done = run(tmp_path / "venv", "test", "tests/unit/schedule/no_such_file.py", "-q")
    assert done.returncode == 4  # pytest: usage error (no such file)
