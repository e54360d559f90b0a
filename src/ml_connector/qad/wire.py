"""The HTTP client a QAD channel sends with: `ml_connector.wire`'s, set up for QAD's API."""

from __future__ import annotations

import httpx

from ml_connector.wire import HttpClient, HttpTransport


def qad_http_client(
    base_url: str = "",
    *,
    timeout: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HttpClient:
    """The client a QAD channel sends with; `transport` (tests) replaces the socket transport.

    Redirects are never followed (one could lead off the checked host) and the environment's
    proxy and certificate settings are not read (`trust_env=False`).
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return HttpClient(
        base_url=base_url,
        transport=transport or HttpTransport(limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
