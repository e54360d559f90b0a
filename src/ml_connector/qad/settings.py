"""Per-tenant QAD settings and the base-URL check that keeps the connector off internal networks.

A hosted connector calls whatever URL a customer types in, so the URL is checked before any
request is made: https only, no credentials, query or fragment in it, and no loopback, private,
link-local or otherwise non-public host unless the operator explicitly allows local targets
(`allow_local=True`, for the sandbox and on-premise trials).

Every check runs on the normalised text: Unicode compatibility forms are folded (NFKC, so
`https://①②⑦.0.0.1` is `https://127.0.0.1`), the dots browsers and IDNA treat as label
separators become `.`, and an internationalised host name becomes its ASCII (IDNA) form. The URL
returned is that normalised one, so what was checked is what gets dialled.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ml_connector.errors import UrlRefused
from ml_connector.qad.profile import SupplierGlProfiles

# Names that never point at the public internet (RFC 6761/6762/8375 and common intranet zones).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """Read `host` the way C's inet_aton does, or return None if it is not an IPv4 literal.

    Resolvers accept `2130706433`, `0x7f000001`, `017700000001`, `127.1` and `0177.0.0.1` all as
    127.0.0.1, so the check must read them too.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if not part:
            return None
        try:
            if part.lower().startswith("0x"):
                value = int(part[2:], 16) if len(part) > 2 else 0
            elif len(part) > 1 and part.startswith("0"):
                value = int(part[1:], 8)
            else:
                value = int(part, 10) if part.isdigit() else -1
        except ValueError:
            return None
        if value < 0:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def _ip_literal(host: str) -> IPAddress | None:
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return _parse_inet_aton(host)


def _is_local_ip(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None and _is_local_ip(embedded):
            return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def _is_local_name(name: str) -> bool:
    # A single-label name is resolved through search domains: an intranet host by definition.
    return name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES) or "." not in name


# Label separators IDNA (RFC 3490 §3.1) accepts besides ".": ideographic, fullwidth, halfwidth.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _ascii_host(host: str) -> str:
    """``host`` in ASCII: each non-ASCII label IDNA-encoded; ConfigError when it cannot be."""
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            raise UrlRefused("host is not a valid host name or address") from None
    return ".".join(labels)


def normalise_url(url: str) -> str:
    """``url`` with compatibility characters folded and its host in ASCII (see the module doc).

    Only the authority is rewritten beyond NFKC; the rest of the text is kept as typed, so the
    later checks still see an empty ``?`` or ``#``.
    """
    folded = unicodedata.normalize("NFKC", url)
    scheme, marker, rest = folded.partition("://")
    if not marker:
        return folded
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc = rest[:cut].translate(_DOTS)
    if not netloc.isascii():
        host_start = netloc.rfind("@") + 1
        host_port = netloc[host_start:]
        host, sep, port = host_port.rpartition(":")
        if not sep or not port.isdigit():
            host, sep, port = host_port, "", ""
        netloc = netloc[:host_start] + _ascii_host(host.lower()) + sep + port
    return scheme + marker + netloc + rest[cut:]


def check_base_url(url: str, *, allow_local: bool = False) -> str:
    """Validate a tenant base URL and return it without a trailing slash.

    Raises `UrlRefused` (a `ConfigError`) naming the rule broken. Only the literal text is
    checked: names are not
    resolved here. A hosted deployment should also resolve the host once, refuse non-public
    addresses, and pin the connection to the address it checked (DNS rebinding).

        >>> check_base_url("https://acme.qad.com/clouderp/")
        'https://acme.qad.com/clouderp'
    """
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("is empty")
    if url != url.strip() or any(ch.isspace() or ord(ch) < 32 for ch in url) or "\\" in url:
        raise UrlRefused("contains spaces, control characters or backslashes")
    url = normalise_url(url)
    if any(ch.isspace() or ord(ch) < 32 for ch in url) or "\\" in url:
        raise UrlRefused("contains spaces, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused(f"must start with https:// (got {scheme or 'no'} scheme)")
    if "@" in parts.netloc:
        raise UrlRefused("must not contain credentials (user:password@host)")
    if "#" in url:
        raise UrlRefused("must not contain a fragment (#...)")
    if "?" in url:
        raise UrlRefused("must not contain a query string (?...)")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("has no host")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise UrlRefused("has an invalid port") from None
    if "%" in host:
        raise UrlRefused("must not use an IPv6 zone id")
    ip = _ip_literal(host)
    if ip is None and (":" in host or not all(c.isalnum() or c in "-._" for c in host)):
        raise UrlRefused("host is not a valid host name or address")
    local = _is_local_ip(ip) if ip is not None else _is_local_name(host)
    if local and not allow_local:
        raise UrlRefused(
            f"points at a local or private address ({host}); "
            "refused unless local targets are explicitly allowed"
        )
    if scheme == "http" and not local:
        raise UrlRefused("must use https:// (http is only allowed for local hosts)")
    return url.rstrip("/")


DEFAULT_INVOICE_STATUS = "AP-INITIAL"
"""QAD's initial invoice status: payment locked, finished by receiver matching (reference §4.4)."""


class QadSettings(BaseModel):
    """One QAD tenant and environment: where it is, who we log in as, and the defaults we post with.

    `base_url` includes the context root (`https://acme.qad.com/clouderp`,
    `.../clouderp/test`); the client never appends one. The URL is checked at construction
    (see `check_base_url`); a refused URL raises `ConfigError`. The password is a `SecretStr`,
    so it never shows in a repr or a log line.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    client_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    domain: str = Field(default="10USA", min_length=1)
    entity: str = Field(default="10USACO", min_length=1)
    supplier_shared_set: str = "10USA"
    default_site: str | None = None
    daybook: str = "SUPINV"
    invoice_status: str = DEFAULT_INVOICE_STATUS
    allow_local: bool = False
    # From the tenant profile's [defaults] and `dates` (qad/profile.py): what this tenant
    # expects on documents beyond what Cin7 carries. Blank values are not sent.
    dates: Literal["date", "datetime"] = "date"
    daybook_set: str = ""
    bill_to: str = ""
    exchange_rate_type: str = ""
    rounding: int = Field(default=2, ge=0, le=6)
    supplier_gl_profiles: SupplierGlProfiles = SupplierGlProfiles()

    @model_validator(mode="before")
    @classmethod
    def _check_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and "base_url" in data:
            data = dict(data)
            data["base_url"] = check_base_url(
                data["base_url"], allow_local=bool(data.get("allow_local", False))
            )
        return data
