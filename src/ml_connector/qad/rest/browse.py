"""QAD browses (`{base}/api/qracore/browses`): filters, a paginator that does no I/O, one loop.

A browse answers `{"data": [rows], "auxillaryData": {"HasMoreParams": "true"|"false"}}` (QAD's
spelling; the flag is a string). Rows use flat dotted keys (`pt_mstr.pt_part`). An empty page or
a missing/false flag ends the fetch; `max_pages` stops a server that always says "more".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from ml_connector.errors import Unavailable
from ml_connector.qad.rest.transport import QadTransport

BROWSE_PATH = "api/qracore/browses"
Op = Literal["eq", "sw", "ew", "cn", "gt", "ge", "lt", "le"]


@dataclass(frozen=True)
class Filter:
    """One browse condition, sent as `<table>.<field>,<op>,<value>,literal`."""

    field: str
    op: Op
    value: str

    def __post_init__(self) -> None:
        # The condition is comma-separated and QAD has no escape for a comma in the value.
        if "," in self.value or "," in self.field:
            raise ValueError("a browse filter value may not contain a comma")

    def param(self) -> str:
        return f"{self.field},{self.op},{self.value},literal"


@dataclass
class BrowsePaginator:
    """The state of one browse fetch: which page to ask for and whether there is another."""

    browse_id: str
    page_size: int = 100
    filters: tuple[Filter, ...] = ()
    max_pages: int = 1000
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    page: int = 1
    done: bool = False

    def params(self) -> list[tuple[str, str]]:
        params = [
            ("browseId", self.browse_id),
            ("page", str(self.page)),
            ("pageSize", str(self.page_size)),
            ("callId", self.call_id),
        ]
        if self.page == 1:
            params.append(("pageAction", "first"))
        params.extend(("filter", f.param()) for f in self.filters)
        return params

    def update(self, body: Any) -> list[dict[str, Any]]:
        """Take one page's answer; return its rows and move to the next page or finish."""
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise Unavailable(
                f"QAD browse {self.browse_id} answered an unexpected shape", system="qad"
            )
        rows = [row for row in body.get("data", []) if isinstance(row, dict)]
        aux = body.get("auxillaryData")
        more = isinstance(aux, dict) and str(aux.get("HasMoreParams", "")).lower() == "true"
        if not rows or not more or self.page >= self.max_pages:
            self.done = True
        else:
            self.page += 1
        return rows


def text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def flag(row: dict[str, Any], key: str, default: bool = False) -> bool:
    value = row.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "1", "y")


async def fetch_all(
    transport: QadTransport, paginator: BrowsePaginator, *, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every row of a browse, page by page (the only browse loop that does I/O)."""
    rows: list[dict[str, Any]] = []
    while not paginator.done:
        body = await transport.get(BROWSE_PATH, paginator.params(), headers=headers)
        rows.extend(paginator.update(body))
    return rows
