"""Log files for long-running commands: one JSON object per line (``run --log-file``).

Each line carries ``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, plus the
fields a caller passed in ``extra`` under :data:`FIELDS` (the scheduler adds ``connection``,
``action`` and ``detail``), so a log shipper can index them without parsing prose. The file is
appended to and flushed per line, so a killed process loses nothing it had logged.

A record that repeats a line the command already printed on stderr carries :data:`ON_STDERR`
in its ``extra``: the ``-v`` stderr handler leaves it out, so `run -v` shows each turn once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import typer

from ml_connector.cli.console import say
from ml_connector.masking import scrub

__all__ = [
    "FIELDS",
    "ON_STDERR",
    "JsonLinesFormatter",
    "command_log",
    "log_to_file",
    "shown_on_stderr",
    "stamp",
    "stop_reporter",
]

#: ``extra`` fields copied into each JSON line when a record carries them.
FIELDS = ("connection", "action", "detail", "signal", "exit_code")

#: ``extra`` of a record whose message the command has already printed on stderr.
ON_STDERR = {"on_stderr": True}


def shown_on_stderr(record: logging.LogRecord) -> bool:
    """Whether ``record`` repeats a line already printed on stderr (:data:`ON_STDERR`)."""
    return bool(getattr(record, "on_stderr", False))


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def log_to_file(path: Path, level: int = logging.INFO) -> logging.Handler:
    """Append ``ml_connector``'s log records at ``level`` and above to ``path`` as JSON lines."""
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(JsonLinesFormatter())
    handler.setLevel(level)
    logger = logging.getLogger("ml_connector")
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    return handler


def command_log(name: str, log_file: Path | None) -> logging.Logger:
    """The logger of a long-running command, also appending to ``log_file`` when given."""
    if log_file is not None:
        try:
            log_to_file(log_file)
        except OSError as exc:
            raise typer.BadParameter(f"cannot write {log_file}: {exc.strerror}") from None
    return logging.getLogger(name)


def stamp() -> str:
    """The time at the start of a long-running command's stderr lines."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def report_turn(log: logging.Logger, name: str, action: str, detail: str) -> None:
    """One scheduling turn of `run` or `scheduler`: a stamped stderr line
    (``<stamp> <name>: <action>: <detail>``) and the same as a log record with its fields;
    the detail masked with the secrets the turn's scope remembers."""
    detail = scrub(detail)
    say(f"{stamp()} {name}: {action}: {detail}", err=True)
    log.info(
        "%s: %s: %s",
        name,
        action,
        detail,
        extra={"connection": name, "action": action, "detail": detail, **ON_STDERR},
    )


def stop_reporter(log: logging.Logger, what: str, after: str) -> Callable[[str], None]:
    """The ``on_stop`` of :func:`~ml_connector.cli.console.run_until_stopped`: one stderr line
    (``<stamp> <what>stopped by SIGTERM; <after>``) and a log record with the exit code."""

    def stopped(signal_name: str) -> None:
        code = 130 if signal_name == "SIGINT" else 143
        say(f"{stamp()} {what}stopped by {signal_name}; {after}", err=True)
        log.info(
            "stopped by %s",
            signal_name,
            extra={"signal": signal_name, "exit_code": code, **ON_STDERR},
        )

    return stopped
