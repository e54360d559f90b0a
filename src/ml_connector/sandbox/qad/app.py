"""The ASGI app of one tenant: OAuth, the `/api/**` dispatcher, QXtend and `/_sandbox/*`.

Every `/api/**` call is counted, then delayed and faulted as configured, then authenticated
(401), then checked against the user's role (403), then handed to its resource module.
`{base}/qxi/services/QdocWebService` (QXtend Inbound, `qxtend.py`) is counted and faulted the
same way; its QDocs carry their own credentials. `/_sandbox/*` needs no token and is not counted.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ml_connector.sandbox.qad import matching, parties, purchasing, qxtend, receipts, reference
from ml_connector.sandbox.qad.auth import User, grant
from ml_connector.sandbox.qad.browses import browse
from ml_connector.sandbox.qad.envelope import Outcome, bare_errors, submit_envelope, to_decimal
from ml_connector.sandbox.qad.faults import (
    bad_gateway_page,
    error_response,
    gateway_page,
    roll,
)
from ml_connector.sandbox.qad.soapdoc import fault, wsdl
from ml_connector.sandbox.qad.tenant import QadTenant

ReadFn = Callable[[QadTenant, Mapping[str, str]], dict[str, Any]]
SaveFn = Callable[[QadTenant, Mapping[str, Any], Mapping[str, str]], Outcome]

READS: dict[str, ReadFn] = {
    "erp/businessRelationV2s": parties.read_business_relations,
    "erp/supplierV2s": parties.read_suppliers,
    "erp/purchaseOrderHeaders": purchasing.read_headers,
    "erp/purchaseOrderLinesGrid": purchasing.read_lines_grid,
    "erp/purchaseOrderReceipts": receipts.read_receipts,
    "erp/supplierInvoices": matching.read_invoices,
    "erp/items": reference.read_items,
    "erp/glAccounts": reference.read_gl_accounts,
}
WRITES: dict[str, tuple[str, SaveFn]] = {
    "erp/businessRelationV2s": ("businessRelationV2s", parties.save_business_relation),
    "erp/supplierV2s": ("supplierV2s", parties.save_supplier),
    "erp/purchaseOrderHeaders": ("purchaseOrderHeaders", purchasing.save_header),
    "erp/purchaseOrderLinesGrid": ("purchaseOrderLines", purchasing.save_line),
    "erp/purchaseOrderLines/fieldChangeV2": ("purchaseOrderLines", purchasing.field_change),
    "erp/purchaseOrderReceipts": ("purchaseOrderReceipts", receipts.post_receipt),
    "erp/supplierInvoices": ("supplierInvoices", matching.post_invoice),
    "erp/items": ("items", reference.save_item),
}
SPECIAL_READS = ("qracore/browses", "qracore/permissionState")
READ_ACTIONS = ("", "READ", "VIEW", "GET")
INTERFACE_RESOURCES = {
    "IBusinessRelationV2": "businessRelationV2s",
    "ISupplierV2": "supplierV2s",
    "IPurchaseOrderHeader": "purchaseOrderHeaders",
    "IPurchaseOrderLine": "purchaseOrderLines",
    "IPurchaseOrderReceipt": "purchaseOrderReceipts",
    "ISupplierInvoice": "supplierInvoices",
    "IItem": "items",
}


def resource_of(path: str) -> str:
    """The resource of a path: `erp/purchaseOrderLines/fieldChangeV2` → `purchaseOrderLines`."""
    parts = path.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def build_tenant_app(tenant: QadTenant) -> Starlette:
    """Routes of one tenant, relative to its base URL (`/{tenant}/{context root}`)."""

    async def token(request: Request) -> Response:
        tenant.traffic.token_requests += 1
        params = dict(request.query_params)
        media = request.headers.get("content-type", "")
        if media.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        status, body = grant(
            params, client_id=tenant.client_id, users=tenant.users, tokens=tenant.tokens
        )
        return JSONResponse(body, status, headers={"Cache-Control": "no-store"})

    burst_until = 0.0

    async def inject_faults() -> Response | None:
        """The REST call's fault, counted by kind; None when the call goes ahead."""
        nonlocal burst_until
        faults, counted = tenant.faults, tenant.traffic.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        now = time.monotonic()
        if burst_until <= now and roll(tenant.rng, faults.burst_rate):
            burst_until = now + faults.burst_seconds
        if burst_until > now:
            counted["burst"] += 1
            wait = str(max(1, math.ceil(burst_until - now)))
            return JSONResponse(
                bare_errors("429", "Too many requests"), 429, headers={"Retry-After": wait}
            )
        if roll(tenant.rng, faults.error_rate):
            counted["error"] += 1
            status, media, text = error_response(tenant.rng)
            return Response(text, status, media_type=media)
        if roll(tenant.rng, faults.html_rate):
            counted["html"] += 1
            return HTMLResponse(gateway_page())
        if roll(tenant.rng, faults.timeout_rate):
            counted["timeout"] += 1
            await asyncio.sleep(faults.timeout_seconds)
        return None

    async def api(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        method = request.method
        tenant.traffic.calls += 1
        tenant.traffic.by_path[f"{method} /api/{path}"] += 1
        faulted = await inject_faults()
        if faulted is not None:
            return faulted
        user = _authenticate(tenant, request)
        if user is None:
            tenant.traffic.unauthorized += 1
            return JSONResponse(
                bare_errors("401", "Unauthorized"),
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        known = path in READS or path in WRITES or path in SPECIAL_READS
        if not known:
            return JSONResponse(bare_errors("404", f"No resource at /api/{path}"), 404)
        readable = path in READS or path in SPECIAL_READS
        if (
            (method == "GET" and not readable)
            or (method == "POST" and path not in WRITES)
            or method not in ("GET", "POST")
        ):
            return JSONResponse(bare_errors("500", f"Request method '{method}' not supported"), 500)
        if not user.may(resource_of(path), write=method == "POST"):
            tenant.traffic.forbidden += 1
            return JSONResponse(bare_errors("403", "Access is denied"), 403)
        if method == "GET":
            return _read(tenant, user, path, request)
        if path != "erp/purchaseOrderLines/fieldChangeV2":
            tenant.traffic.writes += 1
        return await _write(tenant, path, request)

    async def qdoc_service(request: Request) -> Response:
        if not tenant.qxtend_exposed:
            return HTMLResponse(_not_found_page(), 404)
        if request.method == "GET":
            if "wsdl" not in {k.lower() for k in request.query_params}:
                return Response("QdocWebService: POST a SOAP QDoc, or GET ?wsdl", 405)
            tenant.traffic.by_path[f"GET /{qxtend.SERVICE_PATH}?wsdl"] += 1
            address = str(request.url.replace(query=""))
            return Response(wsdl(address, tuple(qxtend.QDOCS)), media_type="text/xml")
        raw = await request.body()
        tenant.traffic.calls += 1
        tenant.traffic.writes += 1
        tenant.traffic.by_path[f"POST /{qxtend.SERVICE_PATH} {_qdoc_name(raw)}"] += 1
        faults = tenant.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if roll(tenant.rng, faults.error_rate):
            tenant.traffic.faults["error"] += 1
            return _soap(500, fault("Server", "Internal error: the request could not be processed"))
        if roll(tenant.rng, faults.html_rate):
            tenant.traffic.faults["html"] += 1
            return HTMLResponse(gateway_page())
        status, body = qxtend.handle(tenant, raw)
        if roll(tenant.rng, faults.lost_response_rate):
            tenant.traffic.faults["lost_response"] += 1
            return HTMLResponse(bad_gateway_page(), 502)
        return _soap(status, body)

    async def state(request: Request) -> Response:
        return JSONResponse(tenant.state())

    async def stats(request: Request) -> Response:
        return JSONResponse(tenant.stats())

    async def journal(request: Request) -> Response:
        return JSONResponse(tenant.journal)

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_object(request)
            if body is None:
                return JSONResponse({"error": "body must be a JSON object"}, 400)
            expire = bool(body.pop("expire_tokens_now", False))
            try:
                tenant.faults.update(body)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            if expire:
                tenant.expire_tokens()
        return JSONResponse(tenant.faults.to_json())

    async def add_item(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            item = tenant.add_item(
                str(body["itemCode"]),
                str(body.get("description", "")),
                uom=str(body.get("unitOfMeasure", "EA")),
                product_line=str(body.get("productLine", "")),
                gl_account=str(body.get("glAccount", "630")),
                unit_cost=_cost(body.get("unitCost", 0)),
                status=str(body.get("itemStatus", "ACTIVE")),
                sub_account=str(body.get("subAccount", "")),
                cost_centre=str(body.get("costCentre", "")),
            )
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"bad item: {exc}"}, 400)
        return JSONResponse(item)

    async def add_account(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            account = tenant.add_account(
                str(body["glCode"]),
                str(body.get("description", "")),
                gl_type=str(body.get("glType", "EXPENSE")),
                requires_sub_account=bool(body.get("requiresSubAccount", False)),
                requires_cost_centre=bool(body.get("requiresCostCentre", False)),
                active=bool(body.get("isActive", True)),
            )
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"bad account: {exc}"}, 400)
        return JSONResponse(account)

    return Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route("/api/{path:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route(f"/{qxtend.SERVICE_PATH}", qdoc_service, methods=["GET", "POST"]),
            Route("/_sandbox/state", state, methods=["GET"]),
            Route("/_sandbox/stats", stats, methods=["GET"]),
            Route("/_sandbox/journal", journal, methods=["GET"]),
            Route("/_sandbox/faults", faults, methods=["GET", "POST"]),
            Route("/_sandbox/items", add_item, methods=["POST"]),
            Route("/_sandbox/accounts", add_account, methods=["POST"]),
        ]
    )


def _soap(status: int, body: bytes) -> Response:
    return Response(body, status, media_type="text/xml; charset=utf-8")


def _qdoc_name(raw: bytes) -> str:
    """The QDoc a request names, for the stats key (a cheap scan; the handler parses properly)."""
    for name in qxtend.QDOCS:
        if f":{name}>".encode() in raw or f"<{name}>".encode() in raw:
            return name
    return "unknown"


def _not_found_page() -> str:
    return "<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


def _authenticate(tenant: QadTenant, request: Request) -> User | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    name = tenant.tokens.user_for(token.strip())
    return tenant.users.get(name) if name else None


def _read(tenant: QadTenant, user: User, path: str, request: Request) -> Response:
    params = dict(request.query_params)
    if path == "qracore/browses":
        page = browse(tenant, params, request.query_params.getlist("filter"))
        if page is None:
            message = f"Browse {params.get('browseId', '')} not found"
            return JSONResponse(bare_errors("404", message, "browseId"), 404)
        return JSONResponse(page)
    if path == "qracore/permissionState":
        resource = _resource_of_uri(params.get("uri", ""))
        write = params.get("action", "").strip().upper() not in READ_ACTIONS
        return JSONResponse({"data": {"hasPermission": user.may(resource, write=write)}})
    return JSONResponse(READS[path](tenant, params))


def _resource_of_uri(uri: str) -> str:
    """`urn:be:com.qad.base.supplier.ISupplierV2[:key]` → `supplierV2s` ("" when unknown)."""
    for part in uri.split(":"):
        if part.startswith("com.qad."):
            return INTERFACE_RESOURCES.get(part.rsplit(".", 1)[-1], "")
    return ""


async def _write(tenant: QadTenant, path: str, request: Request) -> Response:
    plural, save = WRITES[path]
    body = await _json_object(request)
    records = body.get(plural) if body is not None else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        message = f"The request body must be a JSON object with a '{plural}' list of records"
        return JSONResponse(bare_errors("400", message), 400)
    params = dict(request.query_params)
    envelope = submit_envelope(plural, [save(tenant, record, params) for record in records])
    if roll(tenant.rng, tenant.faults.lost_response_rate):
        tenant.traffic.faults["lost_response"] += 1
        return HTMLResponse(bad_gateway_page(), 502)
    return JSONResponse(envelope)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _cost(raw: object) -> str:
    value = to_decimal(raw)
    if value is None:
        raise ValueError("unitCost must be a number")
    return str(value)
