"""dev.py's decisions: when to set up, what `demo` and `test` run, and that a failing step (a
coverage floor) fails the command. Subprocesses and venv creation are recorded, not run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dev_script import fake_venv, load

VERSION = (3, 11)
ROOT = Path(__file__).parents[3]


@pytest.fixture
def dev() -> ModuleType:
    return load()


class Recorder:
    """Stands in for subprocess.run: records each command, answers with scripted exit codes."""

    def __init__(self, codes: dict[str, int] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.codes = codes or {}

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        code = next((c for word, c in self.codes.items() if word in command), 0)
        if kwargs.get("check") and code:
            raise subprocess.CalledProcessError(code, command)
        return subprocess.CompletedProcess(command, code)


@pytest.fixture
def recorder(dev: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorded = Recorder()
    monkeypatch.setattr(dev.subprocess, "run", recorded)
    return recorded


def test_the_environment_is_set_up_when_missing_unstamped_or_stale(
    dev: ModuleType, tmp_path: Path
) -> None:
    env = tmp_path / "venv"
    assert "no environment" in dev.needs_setup(env, b"[project]", VERSION)
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    assert "not set up by this script" in dev.needs_setup(env, b"[project]", VERSION)
    (env / dev.STAMP).write_text(dev.wanted_stamp(b"[project]", VERSION))
    assert dev.needs_setup(env, b"[project]", VERSION) is None
    assert "changed" in dev.needs_setup(env, b"[project]\nname = 'x'", VERSION)
    assert "changed" in dev.needs_setup(env, b"[project]", (3, 12))


def test_the_environment_defaults_to_dot_venv_and_follows_dev_venv(dev: ModuleType) -> None:
    assert dev.venv_dir({}) == dev.ROOT / ".venv"
    assert dev.venv_dir({"DEV_VENV": "/tmp/elsewhere"}) == Path("/tmp/elsewhere")
    assert dev.venv_dir({"DEV_VENV": ""}) == dev.ROOT / ".venv"


def test_test_with_arguments_runs_just_pytest_with_them(dev: ModuleType, tmp_path: Path) -> None:
    steps = dev.test_steps(tmp_path, ["-m", "unit", "-x"])
    assert steps == [("", [str(tmp_path / "bin" / "python"), "-m", "pytest", "-m", "unit", "-x"])]


def test_test_without_arguments_runs_everything_then_every_coverage_gate(
    dev: ModuleType, tmp_path: Path
) -> None:
    steps = dev.test_steps(tmp_path, [])
    commands = [command for _, command in steps]
    assert commands[0][1:] == ["-m", "pytest", *dev.WHOLE_SUITE, "--cov", "--cov-report="]
    assert "--numprocesses" in dev.WHOLE_SUITE
    assert commands[1][1:4] == ["-m", "coverage", "report"]
    gates = {
        command[command.index("--include") + 1]: float(command[command.index("--fail-under") + 1])
        for command in commands[2:]
    }
    assert gates == dev.COVERAGE_GATES
    assert set(gates) >= {"src/ml_connector/sync/plan.py", "src/ml_connector/cin7/*"}
    assert all(floor >= 80 for floor in gates.values())  # a gate, not a formality


def test_demo_passes_its_arguments_to_ml_connector_demo(
    dev: ModuleType, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_venv(tmp_path / "venv")
    monkeypatch.setenv("DEV_VENV", str(tmp_path / "venv"))
    assert dev.main(["demo", "--purchases", "3"]) == 0
    assert recorder.commands == [
        [str(tmp_path / "venv" / "bin" / "ml-connector"), "demo", "--purchases", "3"]
    ]


def test_a_coverage_floor_missed_fails_the_command_and_stops(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_venv(tmp_path / "venv")
    monkeypatch.setenv("DEV_VENV", str(tmp_path / "venv"))
    first_gate = next(iter(dev.COVERAGE_GATES))
    recorder = Recorder({first_gate: 2})
    monkeypatch.setattr(dev.subprocess, "run", recorder)
    assert dev.main(["test"]) == 2
    assert recorder.commands[-1][recorder.commands[-1].index("--include") + 1] == first_gate
    assert len(recorder.commands) == 3  # pytest, the table, the failed gate; no more


def test_a_failing_pytest_fails_the_command_before_coverage(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_venv(tmp_path / "venv")
    monkeypatch.setenv("DEV_VENV", str(tmp_path / "venv"))
    recorder = Recorder({"pytest": 1})
    monkeypatch.setattr(dev.subprocess, "run", recorder)
    assert dev.main(["test"]) == 1
    assert len(recorder.commands) == 1


def test_setup_builds_installs_and_stamps_once(
    dev: ModuleType, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "venv"
    built: list[Path] = []

    class Builder:
        def __init__(self, *, with_pip: bool) -> None:
            assert with_pip

        def create(self, where: Path) -> None:
            built.append(where)
            (where / "bin").mkdir(parents=True)
            (where / "bin" / "python").write_text("")

    monkeypatch.setattr(dev.venv, "EnvBuilder", Builder)
    monkeypatch.setenv("DEV_VENV", str(env))
    assert dev.main(["setup"]) == 0
    assert built == [env]
    python = str(env / "bin" / "python")
    assert recorder.commands == [
        [python, "-m", "pip", "install", "--quiet", "--editable", f"{dev.ROOT}[dev]"]
    ]
    assert dev.needs_setup(env, dev.PYPROJECT.read_bytes(), sys.version_info) is None
    assert dev.main(["setup"]) == 0  # current: nothing to do
    assert len(recorder.commands) == 1


def test_a_changed_pyproject_reinstalls_into_the_same_environment(
    dev: ModuleType, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "venv"
    fake_venv(env)
    (env / dev.STAMP).write_text(dev.wanted_stamp(b"an older pyproject", sys.version_info))
    monkeypatch.setattr(dev.venv, "EnvBuilder", None)  # must not be needed
    monkeypatch.setenv("DEV_VENV", str(env))
    assert dev.main(["setup"]) == 0
    assert [command[1:4] for command in recorder.commands] == [["-m", "pip", "install"]]


def test_an_unknown_command_prints_the_usage(
    dev: ModuleType, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev.main(["lint"]) == 2
    assert dev.main([]) == 2
    assert "./dev.py demo" in capsys.readouterr().err
    assert recorder.commands == []


def test_the_readme_gives_two_commands_and_ci_tests_through_the_same_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "\n./dev.py demo\n" in readme
    assert "\n./dev.py test\n" in readme
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert [line for line in ci if re.fullmatch(r"python3 dev\.py test( .*)?", line)]
    assert [line for line in ci if "pytest" in line] == []  # no second way to run the tests
