"""Log files for long-running commands: one JSON object per line (``run --log-file``).

Each line carries ``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, plus the
fields a caller passed in ``extra`` under :data:`FIELDS` (the scheduler adds ``connection``,
``action`` and ``detail``), so a log shipper can index them without parsing prose. The file is
appended to and flushed per line, so a killed process loses nothing it had logged.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["FIELDS", "JsonLinesFormatter", "log_to_file"]

#: ``extra`` fields copied into each JSON line when a record carries them.
FIELDS = ("connection", "action", "detail", "signal", "exit_code")


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
