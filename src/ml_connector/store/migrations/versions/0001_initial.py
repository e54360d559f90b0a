"""Initial schema: connections, cursors, snapshots, records, postings, mappings, audit, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Frozen: later schema changes go into new revisions, never here. Types are spelled out instead
of imported from ``tables.py`` so that this file keeps building the same schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(table: str) -> list[SchemaItem]:
    return [
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _connection_fk(table: str) -> list[SchemaItem]:
    return [
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=f"fk_{table}_connection_id_connections",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("cin7_base_url", sa.String(512), nullable=False),
        sa.Column("cin7_account_id", sa.String(64), nullable=False),
        sa.Column("cin7_application_key_enc", sa.Text(), nullable=False),
        sa.Column("qad_base_url", sa.String(512), nullable=False),
        sa.Column("qad_client_id", sa.String(128), nullable=False),
        sa.Column("qad_username", sa.String(128), nullable=False),
        sa.Column("qad_password_enc", sa.Text(), nullable=False),
        sa.Column("qad_domain", sa.String(32), nullable=False),
        sa.Column("qad_entity", sa.String(32), nullable=False),
        sa.Column("qad_site", sa.String(32), nullable=True),
        sa.Column("qad_supplier_shared_set", sa.String(32), nullable=True),
        sa.Column("qad_daybook", sa.String(32), nullable=True),
        sa.Column("allow_local", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.String(64), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("health_message", sa.Text(), nullable=True),
        _stamp("health_checked_at", nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.UniqueConstraint("name", name="uq_connections_name"),
    )

    op.create_table(
        "cursors",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(32), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        _stamp("value_at", nullable=True),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name="fk_cursors_connection_id_connections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name="pk_cursors"),
    )

    op.create_table(
        "snapshots",
        *_id("snapshots"),
        *_connection_fk("snapshots"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cin7_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _stamp("fetched_at"),
        sa.UniqueConstraint(
            "connection_id",
            "kind",
            "cin7_id",
            "version",
            name="uq_snapshots_connection_id_kind_cin7_id_version",
        ),
    )

    op.create_table(
        "records",
        *_id("records"),
        *_connection_fk("records"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cin7_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("supplier_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=True),
        sa.Column("posted_version", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(7), nullable=True),
        sa.Column("amounts", sa.JSON(), nullable=False),
        _stamp("status_since"),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.UniqueConstraint(
            "connection_id", "kind", "cin7_id", name="uq_records_connection_id_kind_cin7_id"
        ),
    )
    op.create_index("ix_records_connection_id_status", "records", ["connection_id", "status"])
    op.create_index("ix_records_connection_id_reference", "records", ["connection_id", "reference"])
    op.create_index("ix_records_connection_id_month", "records", ["connection_id", "month"])

    op.create_table(
        "postings",
        *_id("postings"),
        *_connection_fk("postings"),
        sa.Column("record_id", _big_id(), nullable=True),
        sa.Column("natural_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("qad_id", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name="fk_postings_record_id_records", ondelete="SET NULL"
        ),
        sa.UniqueConstraint(
            "connection_id", "natural_key", name="uq_postings_connection_id_natural_key"
        ),
    )
    op.create_index("ix_postings_record_id", "postings", ["record_id"])
    op.create_index("ix_postings_connection_id_state", "postings", ["connection_id", "state"])

    op.create_table(
        "mappings",
        *_id("mappings"),
        *_connection_fk("mappings"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cin7_value", sa.String(255), nullable=False),
        sa.Column("qad_value", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.UniqueConstraint(
            "connection_id", "kind", "cin7_value", name="uq_mappings_connection_id_kind_cin7_value"
        ),
    )
    op.create_index(
        "ix_mappings_connection_id_kind_qad_value",
        "mappings",
        ["connection_id", "kind", "qad_value"],
    )

    op.create_table(
        "audit_events",
        *_id("audit_events"),
        *_connection_fk("audit_events"),
        sa.Column("record_key", sa.String(160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _stamp("at"),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "connection_id",
            "record_key",
            "seq",
            name="uq_audit_events_connection_id_record_key_seq",
        ),
        sa.UniqueConstraint(
            "connection_id", "prev_hash", name="uq_audit_events_connection_id_prev_hash"
        ),
    )
    op.create_index("ix_audit_events_connection_id_id", "audit_events", ["connection_id", "id"])

    op.create_table(
        "audit_heads",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name="fk_audit_heads_connection_id_connections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name="pk_audit_heads"),
    )

    op.create_table(
        "runs",
        *_id("runs"),
        *_connection_fk("runs"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _stamp("started_at"),
        _stamp("finished_at", nullable=True),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_runs_connection_id_started_at", "runs", ["connection_id", "started_at"])


def downgrade() -> None:
    for table in (
        "runs",
        "audit_heads",
        "audit_events",
        "mappings",
        "postings",
        "records",
        "snapshots",
        "cursors",
        "connections",
    ):
        op.drop_table(table)
