"""Planted bad input: list rows and details that differ from what the sandbox's state renders.

The sandbox renders every purchase from its own consistent model, so by itself it never sends
a date like `19/12/2025`, a negative quantity or a detail whose `ID` is not the one asked for.
Live Cin7 data has such documents now and then (hand-edited imports, integrations writing
through the API, bugs on either side), and the connector must quarantine them without stopping.
This module lets a test or a benchmark plant them, beside the sandbox's real data:

    POST /_sandbox/purchases/{id}/tamper    {"row"?: [op, ...], "detail"?: [op, ...],
                                             "detail_error"?: {"status", "message"}}
    POST /_sandbox/purchases/{id}/untamper  Cin7 corrects the document
    GET  /_sandbox/tampered                 {id: the planted changes}

An op is an RFC 6902 subset on the rendered JSON, with RFC 6901 pointers:
`{"op": "replace", "path": "/Order/Lines/0/Quantity", "value": -5}`, `{"op": "add", ...}` (a new
key, or `-` to append to an array) and `{"op": "remove", "path": ...}`. `row` changes the
purchase's `purchaseList` row, `detail` its `/purchase` or `/advanced-purchase` document (both
as the API serves them; `/_sandbox/purchases/{id}` keeps showing the untouched truth), and
`detail_error` makes the detail call answer that Cin7 error instead.

Planting and removing both give the purchase a new `LastUpdatedDate`, as an edit in Cin7 would,
so an incremental poll sees each change (`UpdatedSince` filters on the sandbox's own stamp, even
when a `row` op plants a malformed one). The ops are applied to every answer afresh, so later
sandbox verbs (receive, invoice) still show through.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ml_connector.sandbox.cin7.model import Cin7SandboxError

Row = dict[str, Any]
_OPS = ("add", "replace", "remove")


@dataclass(frozen=True)
class Op:
    """One change to a rendered document."""

    op: str
    path: tuple[str, ...]
    value: Any = None

    @classmethod
    def parse(cls, raw: Any) -> Op:
        if not isinstance(raw, Mapping):
            raise Cin7SandboxError("each tamper op should be an object")
        op = raw.get("op")
        if op not in _OPS:
            raise Cin7SandboxError(f"tamper op should be one of {', '.join(_OPS)}, not {op!r}")
        path = raw.get("path")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise Cin7SandboxError("tamper path should be a JSON pointer such as /Order/Status")
        if op != "remove" and "value" not in raw:
            raise Cin7SandboxError(f"tamper op {op} at {path} needs a value")
        parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/"))
        if not path:
            parts = ()  # the whole document
        return cls(op, parts, raw.get("value"))

    def to_json(self) -> dict[str, Any]:
        path = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in self.path)
        out: dict[str, Any] = {"op": self.op, "path": path}
        if self.op != "remove":
            out["value"] = self.value
        return out

    def apply(self, document: Any) -> Any:
        """`document` changed (the caller passes a copy); the root itself can be replaced."""
        if not self.path:
            if self.op == "remove":
                raise Cin7SandboxError("the whole document cannot be removed")
            return copy.deepcopy(self.value)
        parent = document
        for part in self.path[:-1]:
            parent = _step(parent, part, self.path)
        last = self.path[-1]
        if isinstance(parent, list):
            if last == "-" and self.op == "add":
                parent.append(copy.deepcopy(self.value))
                return document
            index = _index(parent, last, self.path, insert=self.op == "add")
            if self.op == "remove":
                del parent[index]
            elif self.op == "add":
                parent.insert(index, copy.deepcopy(self.value))
            else:
                parent[index] = copy.deepcopy(self.value)
            return document
        if not isinstance(parent, dict):
            raise Cin7SandboxError(f"tamper path {self.to_json()['path']} leads into a value")
        if self.op == "remove":
            parent.pop(last, None)
        else:
            parent[last] = copy.deepcopy(self.value)
        return document


def _step(node: Any, part: str, path: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path, insert=False)]
    if isinstance(node, dict) and part in node:
        return node[part]
    raise Cin7SandboxError(f"tamper path /{'/'.join(path)} does not exist in the document")


def _index(items: list[Any], part: str, path: tuple[str, ...], *, insert: bool) -> int:
    try:
        index = int(part)
    except ValueError:
        index = -1
    if not 0 <= index < len(items) + (1 if insert else 0):
        raise Cin7SandboxError(f"tamper path /{'/'.join(path)}: no array element {part}")
    return index


@dataclass(frozen=True)
class Tampering:
    """What is planted on one purchase."""

    row: tuple[Op, ...] = ()
    detail: tuple[Op, ...] = ()
    detail_error: tuple[int, str] | None = None

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Tampering:
        unknown = sorted(set(body) - {"row", "detail", "detail_error"})
        if unknown:
            raise Cin7SandboxError(f"unknown tamper field(s): {', '.join(unknown)}")
        error = body.get("detail_error")
        detail_error = None
        if error is not None:
            if not isinstance(error, Mapping) or not isinstance(error.get("status"), int):
                raise Cin7SandboxError('\'detail_error\' should be {"status": int, "message"}')
            status = int(error["status"])
            if not 400 <= status <= 599:
                raise Cin7SandboxError("'detail_error' status should be 4xx or 5xx")
            detail_error = (status, str(error.get("message") or "Error"))
        tampering = cls(_ops(body.get("row")), _ops(body.get("detail")), detail_error)
        if not (tampering.row or tampering.detail or tampering.detail_error):
            raise Cin7SandboxError("nothing to tamper: give 'row', 'detail' or 'detail_error'")
        return tampering

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row": [op.to_json() for op in self.row],
            "detail": [op.to_json() for op in self.detail],
        }
        if self.detail_error:
            out["detail_error"] = {
                "status": self.detail_error[0],
                "message": self.detail_error[1],
            }
        return out


def _ops(raw: Any) -> tuple[Op, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise Cin7SandboxError("tamper 'row' and 'detail' should be lists of ops")
    return tuple(Op.parse(item) for item in raw)


@dataclass
class Tampered:
    """Every purchase with planted changes, by purchase ID (lower case)."""

    by_id: dict[str, Tampering] = field(default_factory=dict)

    def plant(self, purchase_id: str, tampering: Tampering) -> None:
        self.by_id[purchase_id] = tampering

    def clear(self, purchase_id: str) -> bool:
        return self.by_id.pop(purchase_id, None) is not None

    def row(self, purchase_id: str, row: Row) -> Any:
        """The list row as served: planted changes applied to a copy."""
        tampering = self.by_id.get(purchase_id)
        if tampering is None or not tampering.row:
            return row
        return _apply(tampering.row, row)

    def detail(self, purchase_id: str, document: Row) -> Any:
        """The detail as served, or the planted Cin7 error (`Cin7SandboxError`)."""
        tampering = self.by_id.get(purchase_id)
        if tampering is None:
            return document
        if tampering.detail_error:
            status, message = tampering.detail_error
            raise Cin7SandboxError(message, status=status)
        return _apply(tampering.detail, document) if tampering.detail else document

    def to_json(self) -> dict[str, Any]:
        return {pid: t.to_json() for pid, t in sorted(self.by_id.items())}


def _apply(ops: Sequence[Op], document: Row) -> Any:
    result: Any = copy.deepcopy(document)
    for op in ops:
        result = op.apply(result)
    return result
