"""Terminal output of the command line: Rich tables, one-document JSON, progress bars, and the one
error boundary that turns exceptions into a readable line and an exit code.

Exit codes (the contract scripts rely on, also in README):

    0  success
    1  records failed or were blocked in a sync or replay (or the audit chain is broken)
    2  bad usage or configuration: ConfigError, StoreError, an unknown connection or record
    3  a remote refused our credentials or permissions: AuthRejected
    4  a remote was unavailable: TransientError (Unavailable, RateLimited)
    5  another process is syncing the connection: ConnectionBusy (``sync``/``replay --wait``)

Errors print one line to stderr, never a traceback (set ``ML_CONNECTOR_DEBUG=1`` to see one) and
never a secret: besides the clients' own redaction, every secret the command handled is masked in
the line again (:mod:`ml_connector.masking`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import typer
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ml_connector import eventloop
from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    ConnectionBusy,
    ConnectorError,
    StoreError,
    TransientError,
)
from ml_connector.masking import scrub, secret_scope
from ml_connector.sync.connect import VerdictProblem
from ml_connector.sync.engine import Progress as ProgressCallback
from ml_connector.usecases import ConnectionTest, PassResult

__all__ = [
    "EXIT_AUTH",
    "EXIT_BUSY",
    "EXIT_OK",
    "EXIT_RECORDS",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "SyncProgress",
    "connection_test_exit_code",
    "emit",
    "emit_json",
    "emit_text",
    "error_boundary",
    "exit_code_for",
    "pass_exit_code",
    "progress_bars",
    "run",
    "say",
    "stderr_console",
    "stdout_console",
    "table",
    "to_json",
]

EXIT_OK = 0
EXIT_RECORDS = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_UNAVAILABLE = 4
EXIT_BUSY = 5

DEBUG_ENV = "ML_CONNECTOR_DEBUG"
_PIPE_WIDTH = 160

# --- consoles and plain output -----------------------------------------------------------------


def stdout_console() -> Console:
    """A console on the current ``sys.stdout``; wide when it is not a terminal, so tables piped
    to a file or read by a test do not wrap."""
    probe = Console()
    return Console(width=None if probe.is_terminal else _PIPE_WIDTH, highlight=False)


def stderr_console() -> Console:
    probe = Console(stderr=True)
    return Console(stderr=True, width=None if probe.is_terminal else _PIPE_WIDTH, highlight=False)


def emit(*renderables: RenderableType) -> None:
    """Print to stdout."""
    console = stdout_console()
    for renderable in renderables:
        console.print(renderable)


def say(message: str, *, err: bool = False) -> None:
    """One line of plain prose (no markup, never wrapped), to stdout or stderr."""
    console = stderr_console() if err else stdout_console()
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def emit_text(text: str) -> None:
    """Raw text to stdout, exactly as given (CSV)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def to_json(value: Any) -> Any:
    """``value`` with decimals, datetimes and paths made JSON-friendly (decimals as strings, so
    amounts keep their exact digits)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def emit_json(document: Any) -> None:
    """Print exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(to_json(document), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def table(
    title: str | None,
    columns: Iterable[str | tuple[str, str]],
    rows: Iterable[Iterable[Any]],
    *,
    caption: str | None = None,
) -> Table:
    """A Rich table; a column given as ``(name, "right")`` is right-aligned (numbers).

    Cells and the title are plain text, never Rich markup: values such as `connection fit`'s
    advice (`set [qxtend] url`) or a reason quoting a bracket must print as they are.
    """
    grid = Table(
        title=None if title is None else Text(title),
        caption=caption,
        title_justify="left",
        show_lines=False,
    )
    for column in columns:
        if isinstance(column, tuple):
            grid.add_column(column[0], justify="right" if column[1] == "right" else "left")
        else:
            grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    return grid


# --- progress ------------------------------------------------------------------------------------


class EtaColumn(TimeRemainingColumn):
    """Time left, shown only once the total is known (a growing count has no ETA)."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        eta = super().render(task)
        return Text.assemble("ETA ", eta)


@dataclass
class SyncProgress:
    """Progress bars for a sync on stderr when stderr is a terminal; silent otherwise.

    Use as a context manager and pass :meth:`update` as the engine's ``progress`` callback
    (``progress(phase, done, total)`` with phase ``suppliers``, ``purchases`` or ``posting``).
    """

    enabled: bool | None = None
    _progress: Progress | None = None
    _tasks: dict[str, TaskID] = field(default_factory=dict)

    LABELS: ClassVar[dict[str, str]] = {
        "suppliers": "suppliers fetched",
        "purchases": "purchases fetched",
        "posting": "posting records",
    }

    def __enter__(self) -> SyncProgress:
        console = Console(stderr=True)
        if self.enabled is None:
            self.enabled = console.is_terminal
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                EtaColumn(),
                console=console,
                transient=False,
            )
            self._progress.start()
            for phase, label in self.LABELS.items():
                self._tasks[phase] = self._progress.add_task(label, total=None)
        return self

    def update(self, phase: str, done: int, total: int | None) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=None)
        self._progress.update(task, completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            for task in self._tasks.values():
                done = self._progress.tasks[task].completed
                self._progress.update(task, total=max(done, 1) if done else 0, completed=done)
            self._progress.stop()
            self._progress = None


def progress_bars(enabled: bool | None = None) -> AbstractContextManager[ProgressCallback]:
    """:class:`SyncProgress` as a block that yields the engine's ``progress`` callback."""

    @contextmanager
    def bars() -> Iterator[ProgressCallback]:
        with SyncProgress(enabled) as shown:
            yield shown.update

    return bars()


# --- the error boundary ----------------------------------------------------------------------


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    if isinstance(exc, AuthRejected):
        return EXIT_AUTH
    if isinstance(exc, TransientError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, ConnectionBusy):
        return EXIT_BUSY
    if isinstance(exc, ConfigError | StoreError):
        return EXIT_USAGE
    return EXIT_RECORDS


def pass_exit_code(result: PassResult) -> int:
    """3 when a remote refused us, 4 when the pass stopped or records wait on an unavailable
    remote, 1 when records failed or are blocked, else 0; a stopped pass says why on stderr."""
    report = result.report
    if report.status != "succeeded":
        say(f"error: the run stopped: {report.error or report.status}", err=True)
        codes = {"auth": EXIT_AUTH, "config": EXIT_USAGE, "unavailable": EXIT_UNAVAILABLE}
        return codes.get(report.error_kind or "", EXIT_UNAVAILABLE)
    c = report.counters
    if c.retry_later:
        return EXIT_UNAVAILABLE
    # A dry run settles no record, so its counters never hold failed or blocked ones.
    return EXIT_RECORDS if (c.failed or c.blocked) else EXIT_OK


_PROBLEM_EXIT: dict[VerdictProblem, int] = {
    "credentials": EXIT_AUTH,
    "permission": EXIT_AUTH,
    "tenant-url": EXIT_USAGE,
    "config": EXIT_USAGE,
    "unreachable": EXIT_UNAVAILABLE,
    "rate-limited": EXIT_UNAVAILABLE,
}
_PRECEDENCE = (EXIT_AUTH, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_RECORDS)


def connection_test_exit_code(result: ConnectionTest) -> int:
    """3 (credentials/permission) before 2 (URL/config) before 4 (unreachable)."""
    codes = {_PROBLEM_EXIT.get(v.problem, EXIT_RECORDS) for v in result.failures}
    return next((code for code in _PRECEDENCE if code in codes), EXIT_OK)


def describe(exc: BaseException) -> str:
    """The one line shown for an exception."""
    if isinstance(exc, ConnectorError):
        text = str(exc) or type(exc).__name__
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    return scrub(" ".join(text.split()))


@contextmanager
def error_boundary() -> Iterator[None]:
    """Map any exception leaving the block to one stderr line and an exit code.

    The block is the command's secret scope: what it remembers is masked in that line and
    forgotten when the command ends.
    """
    with secret_scope():
        try:
            yield
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            stderr_console().print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            # A busy connection is no error: its line says who is on it, as README shows it.
            prefix = "" if isinstance(exc, ConnectionBusy) else "error: "
            sys.stderr.write(f"{prefix}{describe(exc)}\n")
            raise typer.Exit(exit_code_for(exc)) from None


#: The signals that stop a long-running command, and the exit code each gives (128 + number).
STOP_SIGNALS: dict[signal.Signals, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


def run_until_stopped(
    main: Callable[[], Coroutine[Any, Any, int | None]], on_stop: Callable[[str], None]
) -> None:
    """:func:`run` for commands that run until stopped (``run``, ``worker``).

    Ctrl-C (SIGINT) or SIGTERM cancels ``main``: a pass in flight is interrupted where it
    stands (its run is recorded as interrupted, a write without its outcome is resolved by
    looking in QAD on the next pass), ``on_stop`` prints one line, and the exit code is 130 or
    143. A second signal while stopping is ignored.
    """

    async def stoppable() -> int | None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        received: list[signal.Signals] = []

        def stop(sig: signal.Signals) -> None:
            if not received:
                received.append(sig)
                task.cancel()

        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop, sig)
        try:
            return await main()
        except asyncio.CancelledError:
            if not received:
                raise
            task.uncancel()
            on_stop(received[0].name)
            return STOP_SIGNALS[received[0]]
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    run(stoppable)


def run(main: Callable[[], Coroutine[Any, Any, int | None]]) -> None:
    """Run an async command body inside the error boundary; its int result is the exit code.

    The body runs on the connector's event loop (:mod:`ml_connector.eventloop`: uvloop where
    installed).
    """
    with error_boundary():
        code = eventloop.run(main())
    if code:
        raise typer.Exit(code)
