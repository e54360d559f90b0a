"""The one exception hierarchy of ml-connector, classified by what the caller should do next.

    ConnectorError
    ├── ConfigError            bad settings (a URL we refuse, a missing key); fix and rerun
    │   ├── UrlRefused         a URL our policy refuses (not https, credentials, a local host)
    │   └── WrongTenantUrl     the URL answers as no QAD tenant does (404, redirect, HTML)
    ├── RemoteError            something Cin7 or QAD said or failed to say (carries .system)
    │   ├── TransientError     retry with backoff inside the run
    │   │   ├── RateLimited    wait .retry_after seconds, then retry the same call
    │   │   └── Unavailable    timeout, connection error, 5xx, HTML or garbage on a 200
    │   │       └── WriteOutcomeUnknown  a write's answer was lost: read back before writing again
    │   ├── AuthRejected       terminal for the connection: Cin7 403, QAD 401 after one refresh
    │   │   └── PermissionDenied   QAD 403: the user lacks a role; never retried
    │   ├── RecordRejected     this record only: a business/validation error; the run goes on
    │   │   ├── AlreadyExists  a create on a key QAD already holds: look it up instead
    │   │   └── StaleRecord    an update computed from an old revision: read again, compare again
    │   └── NotFound           the remote has no such record
    ├── StoreError             our own database
    │   └── AlreadyPosted      a natural key we already hold
    ├── ConnectionBusy         another pass holds the connection; wait, or try again later
    ├── ConnectionPaused       a scheduled pass over a paused connection; skip it
    ├── InvalidPayload         a malformed Cin7 document; fails that record only
    └── AccessDenied           the console refused a sign-in
        └── SignInThrottled    too many refused sign-ins; wait .retry_after seconds

Messages never carry secrets: clients build them from status, error codes and the remote's
error text, never from request headers or bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

System = Literal["cin7", "qad"]


class ConnectorError(Exception):
    """Something ml-connector could not do."""


class ConfigError(ConnectorError):
    """A setting is missing or refused."""


class UrlRefused(ConfigError):
    """A URL the policy refuses before anything is dialled; ``rule`` says which rule.

    The message is ``label`` then ``rule`` (``QAD base URL must not contain credentials``);
    :meth:`relabel` names another system's URL checked by the same policy.
    """

    def __init__(self, rule: str, *, label: str = "QAD base URL") -> None:
        self.rule = rule
        self.label = label
        super().__init__(f"{label} {rule}")

    def relabel(self, label: str) -> UrlRefused:
        return UrlRefused(self.rule, label=label)


class WrongTenantUrl(ConfigError):
    """The URL answers, but not as a QAD tenant's API does: a 404 on its routes, a redirect (a
    login page in front), or an HTML page where JSON belongs."""


@dataclass(frozen=True)
class FieldError:
    """One error or warning reported by a remote system about one field."""

    message: str
    field: str = ""
    value: str = ""
    code: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message}"


class RemoteError(ConnectorError):
    """Cin7 or QAD answered with an error, or did not answer usefully."""

    def __init__(
        self,
        message: str,
        *,
        system: System,
        status: int | None = None,
        code: str | int | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system: System = system
        self.status = status
        self.code = code
        self.errors: list[FieldError] = list(errors or [])

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.system}: {self.message}{status}"


class TransientError(RemoteError):
    """Worth retrying: the same call may succeed later."""


class RateLimited(TransientError):
    """The remote asked us to slow down; wait `retry_after` seconds."""

    def __init__(
        self, message: str, *, system: System, retry_after: float, status: int | None = None
    ) -> None:
        super().__init__(message, system=system, status=status)
        self.retry_after = retry_after


class Unavailable(TransientError):
    """Timeout, connection failure, 5xx, or a body that is not the JSON we expect."""


class WriteOutcomeUnknown(Unavailable):
    """A write may or may not have reached QAD (lost answer); read back before posting again."""


class AuthRejected(RemoteError):
    """Credentials refused; the connection is unhealthy until someone fixes them."""


class PermissionDenied(AuthRejected):
    """Authenticated, but the user may not do this."""


class RecordRejected(RemoteError):
    """The remote refused this record (validation or business rule)."""


class AlreadyExists(RecordRejected):
    """A create was refused because QAD already holds a record with this key."""


class StaleRecord(RecordRejected):
    """An update was refused because the record changed since it was read."""


class NotFound(RemoteError):
    """The remote has no such record."""


class StoreError(ConnectorError):
    """Our own store failed."""


class AlreadyPosted(StoreError):
    """A record with this natural key is already held."""


class ConnectionBusy(ConnectorError):
    """Another process is running a pass over this connection.

    ``holder`` says who, when the lock can tell (``since 2026-12-01 09:15:02 UTC; pid 4242 on
    worker-2``); a caller waits and tries again, or (a job) defers itself.
    """

    def __init__(self, name: str, holder: str | None = None) -> None:
        self.name = name
        self.holder = holder
        super().__init__(
            f"connection {name} is being synced by another process "
            f"({holder or 'since an unknown time'})"
        )


class ConnectionPaused(ConnectorError):
    """The connection is paused (``connection pause``): a scheduled pass does not run.

    Raised when the scheduler's pass (``run``, a job deferred before the pause) finds the
    connection paused; a pass asked for by hand runs whatever the pause.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"connection {name} is paused: `connection resume {name}`")


@dataclass
class Problems:
    """Accumulates readable reasons, e.g. for a malformed payload."""

    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def __bool__(self) -> bool:
        return bool(self.items)


class InvalidPayload(ConnectorError):
    """A Cin7 document we cannot use as it stands; `problems` are readable by a finance user."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class AccessDenied(ConnectorError):
    """The operator console refused a sign-in (wrong name or password, or too many tries)."""


class SignInThrottled(AccessDenied):
    """Too many refused sign-ins for this user or from this address; wait and try again."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
