"""Test controls under `/_sandbox/`: no auth, not rate limited, not counted.

    GET  /_sandbox/stats                      {"calls", "rate_limited", "by_path", "faults"}
    POST /_sandbox/stats/reset                zero the counters
    GET  /_sandbox/faults                     the fault settings
    POST /_sandbox/faults                     {error_rate?, timeout_rate?, html_rate?,
                                               burst_rate?, timeout_seconds?, burst_seconds?,
                                               rate_limit_per_minute?,
                                               rate_limit_status?: 429|503}
    POST /_sandbox/purchases                  {"approach", "supplier_id"?, "advanced"?,
                                               "location"?, "freight"?,
                                               "lines": [{"sku", "quantity", "price"?}]}
                                              or a Service purchase: {"service": true,
                                               "supplier_id"?, "charges": [{"description",
                                               "price", "account"?}]}
    GET  /_sandbox/purchases/{id}             the purchase as its detail endpoint shows it
    POST /_sandbox/purchases/{id}/receive     {"lines"?: [{"sku", "quantity"}], "date"?,
                                               "authorise"?}
    POST /_sandbox/purchases/{id}/invoice     {"invoice_number"?, "lines"?, "date"?}
    POST /_sandbox/purchases/{id}/void
    POST /_sandbox/purchases/{id}/edit        {"lines": [...]}
    POST /_sandbox/purchases/{id}/pay         {"amount"?, "date"?}
    POST /_sandbox/purchases/{id}/credit      {"lines"?, "credit_note_number"?}
    POST /_sandbox/purchases/{id}/convert     Simple -> Advanced
    POST /_sandbox/purchases/{id}/tamper      {"row"?, "detail"?, "detail_error"?}: plant
                                               malformed input (see `tamper`)
    POST /_sandbox/purchases/{id}/untamper    Cin7 corrects it
    GET  /_sandbox/tampered                   what is planted, by purchase ID
    GET  /_sandbox/ledger                     every purchase by the sandbox's own books
    POST /_sandbox/touch                      {"count": n} -> {"touched": n}

Purchase verbs answer with the purchase (200) or the Cin7 error array (400, 404 when the
purchase does not exist).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ml_connector.sandbox.cin7.model import Cin7SandboxError
from ml_connector.sandbox.cin7.state import Cin7State


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise Cin7SandboxError("Body could not be parsed") from None
    if not isinstance(body, dict):
        raise Cin7SandboxError("Body should be a JSON object")
    return body


def _lines(body: dict[str, Any], *, required: bool = False) -> list[dict[str, Any]] | None:
    lines = body.get("lines")
    if lines is None and not required:
        return None
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise Cin7SandboxError("'lines' should be a list of objects")
    return lines


async def handle_control(state: Cin7State, request: Request, path: str) -> Response:
    parts = [part for part in path.split("/") if part]
    method = request.method
    if parts == ["stats"] and method == "GET":
        return JSONResponse(state.stats())
    if parts == ["stats", "reset"] and method == "POST":
        state.reset_stats()
        return JSONResponse(state.stats())
    if parts == ["faults"] and method == "GET":
        return JSONResponse(state.set_faults())
    if parts == ["faults"] and method == "POST":
        return JSONResponse(state.set_faults(**await _body(request)))
    if parts == ["ledger"] and method == "GET":
        return JSONResponse(state.ledger())
    if parts == ["tampered"] and method == "GET":
        return JSONResponse(state.tampered.to_json())
    if parts == ["touch"] and method == "POST":
        count = (await _body(request)).get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise Cin7SandboxError("'count' should be an integer")
        return JSONResponse({"touched": state.touch(count)})
    if parts == ["purchases"] and method == "POST":
        body = await _body(request)
        service = bool(body.get("service"))
        charges = body.get("charges")
        if charges is not None and (
            not isinstance(charges, list) or not all(isinstance(x, dict) for x in charges)
        ):
            raise Cin7SandboxError("'charges' should be a list of objects")
        created = state.create_purchase(
            str(body.get("approach") or ""),
            (_lines(body) or []) if service else (_lines(body, required=True) or []),
            body.get("supplier_id"),
            advanced=bool(body.get("advanced")),
            location=body.get("location"),
            freight=body.get("freight"),
            service=service,
            charges=charges,
        )
        return JSONResponse(created)
    if len(parts) == 2 and parts[0] == "purchases" and method == "GET":
        return JSONResponse(state.detail(parts[1]))
    if len(parts) == 3 and parts[0] == "purchases" and method == "POST":
        return JSONResponse(_verb(state, parts[1], parts[2], await _body(request)))
    raise Cin7SandboxError(f"No sandbox control at {method} /_sandbox/{path}", status=404)


def _verb(state: Cin7State, purchase_id: str, verb: str, body: dict[str, Any]) -> Any:
    if verb == "receive":
        return state.receive(
            purchase_id,
            _lines(body),
            body.get("date"),
            authorise=body.get("authorise", True) is not False,
        )
    if verb == "invoice":
        return state.invoice(
            purchase_id, body.get("invoice_number"), _lines(body), date=body.get("date")
        )
    if verb == "void":
        return state.void(purchase_id)
    if verb == "edit":
        return state.edit(purchase_id, _lines(body, required=True) or [])
    if verb == "pay":
        return state.pay(purchase_id, body.get("amount"), body.get("date"))
    if verb == "credit":
        return state.credit(purchase_id, _lines(body), body.get("credit_note_number"))
    if verb == "convert":
        return state.convert(purchase_id)
    if verb == "tamper":
        return state.tamper(purchase_id, body)
    if verb == "untamper":
        return state.untamper(purchase_id)
    raise Cin7SandboxError(f"No sandbox verb '{verb}'", status=404)
