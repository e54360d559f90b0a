"""The store's schema: one set of tables for SQLite and PostgreSQL.

Migrations in ``migrations/versions`` must build exactly this; ``tests/integration/store`` diffs
the Alembic head against this metadata. Secrets live only in the ``*_enc`` columns,
Fernet-encrypted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ENCRYPTED_COLUMNS",
    "UTCDateTime",
    "alert_rules",
    "alert_states",
    "audit_events",
    "audit_heads",
    "audit_keys",
    "connections",
    "console_events",
    "console_sessions",
    "cursors",
    "mappings",
    "metadata",
    "pacer_calls",
    "pacer_keys",
    "postings",
    "qad_slot_waiters",
    "qad_slots",
    "records",
    "runs",
    "snapshots",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both back-ends.

    SQLite keeps no zone, so values are stored as naive UTC there and given ``UTC`` back on read;
    PostgreSQL's ``timestamptz`` answers in the session zone, so reads are converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a bigint for the big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[Any]:
    return Column("id", BigId, primary_key=True, autoincrement=True)


def _connection_fk() -> Column[Any]:
    return Column(
        "connection_id",
        Integer,
        ForeignKey("connections.id", ondelete="CASCADE"),
        nullable=False,
    )


def _stamp(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UTCDateTime(), nullable=nullable)


connections = Table(
    "connections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("cin7_base_url", String(512), nullable=False),
    Column("cin7_account_id", String(64), nullable=False),
    Column("cin7_application_key_enc", Text, nullable=False),
    Column("qad_base_url", String(512), nullable=False),
    Column("qad_client_id", String(128), nullable=False),
    Column("qad_username", String(128), nullable=False),
    Column("qad_password_enc", Text, nullable=False),
    Column("qad_domain", String(32), nullable=False),
    Column("qad_entity", String(32), nullable=False),
    Column("qad_site", String(32)),
    Column("qad_supplier_shared_set", String(32)),
    Column("qad_daybook", String(32)),
    Column("allow_local", Boolean, nullable=False),
    Column("schedule", String(64)),
    Column("options", JSON, nullable=False),
    Column("healthy", Boolean, nullable=False),
    Column("health_message", Text),
    _stamp("health_checked_at", nullable=True),
    _stamp("created_at"),
    _stamp("updated_at"),
)

#: Columns holding Fernet tokens; key rotation re-encrypts exactly these.
ENCRYPTED_COLUMNS: tuple[str, ...] = ("cin7_application_key_enc", "qad_password_enc")

cursors = Table(
    "cursors",
    metadata,
    Column(
        "connection_id",
        Integer,
        ForeignKey("connections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("stream", String(32), primary_key=True),
    Column("value", String(64), nullable=False),
    _stamp("value_at", nullable=True),
    _stamp("updated_at"),
)

snapshots = Table(
    "snapshots",
    metadata,
    _id(),
    _connection_fk(),
    Column("kind", String(16), nullable=False),
    Column("cin7_id", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_updated", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    _stamp("fetched_at"),
    UniqueConstraint("connection_id", "kind", "cin7_id", "version"),
)

records = Table(
    "records",
    metadata,
    _id(),
    _connection_fk(),
    Column("kind", String(16), nullable=False),
    Column("cin7_id", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("supplier_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("latest_version", Integer),
    Column("posted_version", Integer),
    Column("month", String(7)),
    Column("amounts", JSON, nullable=False),
    _stamp("status_since"),
    _stamp("created_at"),
    _stamp("updated_at"),
    UniqueConstraint("connection_id", "kind", "cin7_id"),
    Index(None, "connection_id", "status"),
    Index(None, "connection_id", "reference"),
    Index(None, "connection_id", "month"),
)

postings = Table(
    "postings",
    metadata,
    _id(),
    _connection_fk(),
    Column("record_id", BigId, ForeignKey("records.id", ondelete="SET NULL")),
    Column("natural_key", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("qad_id", String(128)),
    Column("state", String(16), nullable=False),
    Column("details", JSON, nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    UniqueConstraint("connection_id", "natural_key"),
    Index(None, "record_id"),
    Index(None, "connection_id", "state"),
)

mappings = Table(
    "mappings",
    metadata,
    _id(),
    _connection_fk(),
    Column("kind", String(32), nullable=False),
    Column("cin7_value", String(255), nullable=False),
    Column("qad_value", String(255), nullable=False),
    Column("source", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    UniqueConstraint("connection_id", "kind", "cin7_value"),
    Index(None, "connection_id", "kind", "qad_value"),
)

audit_events = Table(
    "audit_events",
    metadata,
    _id(),
    _connection_fk(),
    Column("record_key", String(160), nullable=False),
    Column("seq", Integer, nullable=False),
    _stamp("at"),
    Column("event", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # 0: a legacy plain SHA-256 link; N: an HMAC under audit key version N (store/audit.py).
    Column("key_version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("connection_id", "record_key", "seq"),
    # One successor per event: two writers racing on the same chain head cannot fork it.
    UniqueConstraint("connection_id", "prev_hash"),
    Index(None, "connection_id", "id"),
)

# The head of each connection's audit chain: locked by every append (so appends serialise per
# connection) and compared by verify (so deleting the newest events shows too).
audit_heads = Table(
    "audit_heads",
    metadata,
    Column(
        "connection_id",
        Integer,
        ForeignKey("connections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("last_hash", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    # The version of the last event: 0 with events means a legacy trail not yet sealed.
    Column("key_version", Integer, nullable=False, server_default="0"),
)

# The audit keys, one version per master key, each encrypted under the master key like the
# credentials (so `keys rotate` re-encrypts them); `key_id` says which master key it came from.
audit_keys = Table(
    "audit_keys",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("key_enc", Text, nullable=False),
    _stamp("created_at"),
)

runs = Table(
    "runs",
    metadata,
    _id(),
    _connection_fk(),
    Column("kind", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    _stamp("started_at"),
    _stamp("finished_at", nullable=True),
    Column("counters", JSON, nullable=False),
    Column("error", Text),
    Index(None, "connection_id", "started_at"),
)


# --- the operator console: people, their sessions, and what they did -----------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    # An Argon2id PHC string ($argon2id$v=19$m=…); never the password.
    Column("password_hash", String(255), nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
)

# Signed-in browsers. The cookie carries a random token; only its SHA-256 is stored, so a copy of
# the database signs nobody in. Idle expiry is `last_seen_at` plus the server's idle limit.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    _stamp("created_at"),
    _stamp("last_seen_at"),
    Index(None, "user_id"),
)

# Sign-ins (accepted and refused), sign-outs and user changes. Not hash-chained like the records'
# trail: it is an access log, read back by `ml-connector user log` and counted to rate-limit.
console_events = Table(
    "console_events",
    metadata,
    _id(),
    _stamp("at"),
    Column("event", String(32), nullable=False),
    Column("username", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("remote", String(64)),
    Column("detail", Text),
    Index(None, "username", "at"),
    Index(None, "remote", "at"),
    Index(None, "at"),
)


# --- alerts: who is told what, and which conditions are firing ------------------------------

# One rule per destination. `target_enc` is a Fernet token of the destination's JSON (the webhook
# URL, or the SMTP settings with their password): secrets, so write-only and rotated with the key.
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _connection_fk(),
    Column("channel", String(16), nullable=False),
    Column("target_enc", Text, nullable=False),
    Column("conditions", JSON, nullable=False),
    _stamp("created_at"),
    Index(None, "connection_id"),
)

# Whether a rule's condition is firing. Processes claim a transition with a conditional UPDATE
# (`active` flips only where it had the other value), so exactly one of them sends each notice.
alert_states = Table(
    "alert_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("condition", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    _stamp("since", nullable=True),
    _stamp("last_sent_at", nullable=True),
    UniqueConstraint("rule_id", "condition"),
)


# --- throttles shared by every worker on PostgreSQL (see ml_connector.jobs.pacer, .slots) --------

# One row per Cin7 application key, by its fingerprint (never the key): locked by every
# admission, so workers admit calls on one key one at a time. Instants are the database
# server's clock in epoch seconds: one clock for every machine.
pacer_keys = Table(
    "pacer_keys",
    metadata,
    Column("key_hash", String(32), primary_key=True),
    Column("paused_until", Float, nullable=True),
    Column("last_start", Float, nullable=True),
)

# The calls counted in a key's rolling window; rows older than the window are pruned on admission.
pacer_calls = Table(
    "pacer_calls",
    metadata,
    _id(),
    Column("key_hash", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Index(None, "key_hash", "at"),
)

# A QAD tenant's in-flight slots 1..N: a worker holds one for each QAD request it has out, under
# a lease, so a killed worker's slot frees itself.
qad_slots = Table(
    "qad_slots",
    metadata,
    Column("tenant_hash", String(32), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("holder", String(64), nullable=True),
    Column("expires_at", Float, nullable=True),
)

# The workers waiting for one of a tenant's slots, in the order they came (`ticket`): a freed
# slot goes to the longest waiter, not back to the worker that just gave it up. A waiter renews
# its row each time it asks and leaves it when served; a row not renewed lapses by itself.
qad_slot_waiters = Table(
    "qad_slot_waiters",
    metadata,
    Column("ticket", BigId, primary_key=True, autoincrement=True),
    Column("tenant_hash", String(32), nullable=False),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    UniqueConstraint("tenant_hash", "holder"),
)
