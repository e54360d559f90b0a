"""Cin7's Page/Limit paging as a small state object that does no I/O (reference §3).

The end condition is a short page: fewer rows than the `Limit` we asked for. `Total` is never
trusted (it can change between pages), and the same `limit` value is both sent and compared.
`Cin7Client.iter_pages` is the one loop that does I/O with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ml_connector.errors import InvalidPayload

MAX_LIMIT = 1000  # Cin7's documented maximum page size
DEFAULT_LIMIT = MAX_LIMIT


@dataclass
class Paginator:
    """Which page to ask for next, and whether the listing is exhausted.

    >>> pages = Paginator(limit=2)
    >>> pages.params()
    {'Page': 1, 'Limit': 2}
    >>> pages.update([{"ID": "a"}, {"ID": "b"}]); pages.page, pages.done
    (2, False)
    >>> pages.update([{"ID": "c"}]); pages.done
    True
    """

    limit: int = DEFAULT_LIMIT
    page: int = 1
    done: bool = False
    rows: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"Cin7 page size must be 1..{MAX_LIMIT}, not {self.limit}")

    def params(self) -> dict[str, int]:
        return {"Page": self.page, "Limit": self.limit}

    def update(self, items: list[Any]) -> None:
        """Record a page's rows: a short page (empty included) ends the listing."""
        self.rows += len(items)
        if len(items) < self.limit:
            self.done = True
        else:
            self.page += 1


def page_items(body: Any, list_key: str) -> list[dict[str, Any]]:
    """The rows of one wrapped page, e.g. `body["PurchaseList"]`.

    A page whose envelope has no such array is refused as a whole (`InvalidPayload`): reading
    it as empty would end the listing early and silently.
    """
    if not isinstance(body, Mapping):
        raise InvalidPayload([f"{list_key}: the page is not a JSON object"])
    items = body.get(list_key)
    if items is None:
        found = {key.lower(): value for key, value in body.items()}
        items = found.get(list_key.lower())
    if items is None and body.get("Total") == 0:
        return []
    if not isinstance(items, list):
        raise InvalidPayload([f"{list_key}: the page has no {list_key} array"])
    return [item if isinstance(item, dict) else {"_not_an_object": item} for item in items]
