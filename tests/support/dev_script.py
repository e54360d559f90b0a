"""The repository's `dev.py`, loaded as a module (it lives at the root, outside any package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PATH = Path(__file__).parents[2] / "dev.py"


def load() -> ModuleType:
    """A fresh copy of the script's module, so a test may monkeypatch it freely."""
    spec = importlib.util.spec_from_file_location("dev_script_under_test", PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_venv(env: Path, python: str = sys.executable) -> None:
    """An environment dir whose `bin/python` runs `python`, stamped current for this pyproject."""
    module = load()
    bin_dir = module.bin_dir(env)
    bin_dir.mkdir(parents=True)
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
    wrapper.chmod(0o755)
    stamp = module.wanted_stamp(module.PYPROJECT.read_bytes(), sys.version_info)
    (env / module.STAMP).write_text(stamp)
