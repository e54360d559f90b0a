"""Keyed audit trail: a key version on every event and head, and the audit keys.

Revision ID: 0005_keyed_audit
Revises: 0004_shared_throttles
Create Date: 2026-12-02

Existing events get version 0: their links stay the plain SHA-256 they were written with. A
migration cannot compute HMAC links (it runs without the master key, sometimes on another
machine), so it re-chains nothing: the store seals each legacy trail the first time it is
opened with the vault (see ``ml_connector.store.audit``), chaining a keyed ``trail-sealed``
event to the last legacy link, followed by a ``status`` event per record as the baseline.

Frozen like every revision: types are spelled out here, not imported from ``tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_keyed_audit"
down_revision: str | None = "0004_shared_throttles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("audit_events", "audit_heads"):
        op.add_column(
            table, sa.Column("key_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "audit_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("key_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_audit_keys"),
        sa.UniqueConstraint("key_id", name="uq_audit_keys_key_id"),
    )


def downgrade() -> None:
    op.drop_table("audit_keys")
    for table in ("audit_heads", "audit_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_version")
