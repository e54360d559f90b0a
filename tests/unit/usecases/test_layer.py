"""The use-case layer is the one seam every entry point calls: declared, documented, and free of
presentation (a web console or job worker importing it must not drag in the command line)."""

from __future__ import annotations

import inspect

import ml_connector.usecases as usecases


def test_every_declared_name_exists_and_says_what_it_is() -> None:
    assert usecases.__all__ == sorted(usecases.__all__)
    for name in usecases.__all__:
        value = getattr(usecases, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_use_cases_are_coroutines_with_keyword_only_options() -> None:
    for name in ("sync_connection", "replay_records", "suggest", "list_records"):
        function = getattr(usecases, name)
        assert inspect.iscoroutinefunction(function), name
        params = list(inspect.signature(function).parameters.values())
        assert params[0].name == "store"
        optional = [p for p in params if p.default is not inspect.Parameter.empty]
        assert all(
            p.kind is inspect.Parameter.KEYWORD_ONLY
            for p in optional
            if p.name not in ("references",)
        ), name
