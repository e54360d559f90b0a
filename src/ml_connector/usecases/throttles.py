"""Which throttles a connection's clients get: shared through PostgreSQL, or this process's.

Where the store is PostgreSQL, any number of worker processes on any number of machines may sync
connections at once, so a Cin7 application key's budget and a QAD tenant's in-flight bound must
be counted in the database they share (`ml_connector.jobs.pacer`, `ml_connector.jobs.slots`).
On SQLite (the embedded default) one process syncs, and the in-process pacer of the key and a
semaphore per pass are the whole story. The choice is made here, from the store, and nowhere
else.
"""

from __future__ import annotations

from ml_connector.cin7.pacer import Pacer, pacer_for
from ml_connector.jobs.pacer import SharedPacer
from ml_connector.jobs.slots import SharedInFlight
from ml_connector.qad.inflight import InFlight, LocalInFlight
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.store.sql import SqlStore
from ml_connector.sync.connect import qad_profile

__all__ = ["cin7_pacer", "qad_in_flight", "shared"]

# A QAD slot's lease beyond the request's own timeout (and the second a slot may serve this
# process's next requests): a killed worker's slot frees itself this long after its request
# would have timed out.
_LEASE_SLACK = 60.0


def shared(store: Store) -> SqlStore | None:
    """The store when its database is shared by workers (PostgreSQL), else None."""
    if isinstance(store, SqlStore) and store.dialect == "postgresql":
        return store
    return None


def cin7_pacer(store: Store, config: ConnectionConfig) -> Pacer:
    """The pacer of the connection's Cin7 application key, at the connection's rate limit."""
    cin7 = config.cin7
    limit = config.sync.cin7_rate_limit
    database = shared(store)
    if database is None:
        return pacer_for(cin7.application_key, limit=limit)
    return SharedPacer(database.engine, cin7.application_key, limit=limit)


def qad_in_flight(store: Store, config: ConnectionConfig) -> InFlight:
    """The in-flight bound of the connection's QAD tenant (the profile's ``[limits]``)."""
    size = qad_profile(config).limits.in_flight
    database = shared(store)
    if database is None:
        return LocalInFlight(size)
    # The QXtend channel waits up to 60 s for an answer (`build_channel`), REST its timeout.
    lease = max(config.sync.qad_timeout, 60.0) + _LEASE_SLACK
    return SharedInFlight(database.engine, config.qad.base_url, size, lease=lease)
