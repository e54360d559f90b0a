"""The HTTP client a QAD channel sends with: `ml_connector.wire`'s, set up for QAD's API."""

from __future__ import annotations

import httpx

from ml_connector.wire import HttpClient, HttpTransport, behind_proxy


def qad_http_client(
    base_url: str = "",
    *,
    timeout: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
    destination: str | None = None,
) -> HttpClient:
    """The client a QAD channel sends with; `transport` (tests) replaces the socket transport.

    Redirects are never followed (one could lead off the checked host). A cloud tenant reached
    through an egress proxy that the environment names for the tenant URL (`HTTPS_PROXY`,
    `ALL_PROXY`, not bypassed by `NO_PROXY`) is sent to through httpx, which goes via that proxy
    and reads the environment's certificate settings (`SSL_CERT_FILE`); otherwise the
    environment is not read (`trust_env=False`) and requests take the lean path.
    `destination` is the URL the client sends to when it has no base URL (QXtend's endpoint).
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    proxied = transport is None and behind_proxy(destination or base_url)
    return HttpClient(
        base_url=base_url,
        transport=None if proxied else transport or HttpTransport(limits),
        limits=limits,
        timeout=timeout,
        follow_redirects=False,
        trust_env=proxied,
    )
