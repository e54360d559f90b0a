"""How the command line is parsed and how usage mistakes are reported: the root Typer group.

Three conventions the README promises, kept in one place:

- ``-v``/``--verbose`` is accepted anywhere before a ``--`` (``ml-connector sync acme -v``), not
  only before the sub-command as Click wants: it is moved to the front before parsing.
- A usage mistake is one line on stderr, naming the command and pointing at its ``--help``,
  exit 2 — not Click's boxed usage block.
- Boolean flags show as flags in ``--help``: no ``<bool>`` type column for an option that takes
  no value.

And two fixes to how Typer's rich help prints: a command's help paragraphs are joined onto one
line each before Rich wraps them (Typer keeps a docstring's own line breaks, so a wrapped
docstring came out broken twice), and a group called with nothing after it prints its help once.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import typer
from typer import TyperException

# Typer 0.2x parses with its own copy of Click; its usage errors live there.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption

__all__ = ["RootGroup", "hoist_verbose", "unwrap_help"]

VERBOSE = ("-v", "--verbose")


def hoist_verbose(args: Sequence[str]) -> list[str]:
    """``args`` with every ``-v``/``--verbose`` before a ``--`` moved to the front (once)."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    found = [a for a in args[:end] if a in VERBOSE]
    if not found:
        return args
    rest = [a for a in args[:end] if a not in VERBOSE] + args[end:]
    return ["--verbose", *rest]


def unwrap_help(text: str) -> str:
    """``text`` (a docstring) with each paragraph on one line; a ``\\b`` paragraph (Click's
    "keep my line breaks") and anything after a ``\\f`` line are kept as they are."""
    body, cut, rest = inspect.cleandoc(text).partition("\f")
    paragraphs = [
        p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
        for p in body.rstrip().split("\n\n")
    ]
    joined = "\n\n".join(paragraphs)
    return f"{joined}\n{cut}{rest}" if cut else joined


def _commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def _flag_type_hidden(self: TyperOption, ctx: Any) -> str | None:
    """A flag takes no value, so it has no type to show."""
    if self.is_flag and not self.metavar:
        return None
    return _typed(self, ctx)


_typed = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type_hidden  # type: ignore[method-assign]


class RootGroup(TyperGroup):
    """The ``ml-connector`` group: hoists ``-v`` and reports usage errors on one line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = hoist_verbose(sys.argv[1:] if args is None else args)
        for command in _commands(self):
            if command.help:
                command.help = unwrap_help(command.help)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            # Building the error rendered the help already: Rich printed it and left the
            # message empty; without Rich the message is the help.
            if message := exc.format_message():
                typer.echo(message)
            sys.exit(exc.exit_code)
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else (prog_name or "ml-connector")
            typer.echo(f"{where}: {exc.format_message()} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        except TyperException as exc:
            typer.echo(f"error: {exc}", err=True)
            sys.exit(int(getattr(exc, "exit_code", 1)))
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
