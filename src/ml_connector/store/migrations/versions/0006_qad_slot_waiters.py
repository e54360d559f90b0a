"""QAD slot waiters: a queue per tenant, so a freed slot goes to the worker that waited longest.

Revision ID: 0006_qad_slot_waiters
Revises: 0005_keyed_audit
Create Date: 2026-12-03

Only PostgreSQL uses it (``ml_connector.jobs.slots``); SQLite gets the table too, one schema
for both. Frozen like every revision: types are spelled out here, not imported from
``tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_qad_slot_waiters"
down_revision: str | None = "0005_keyed_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qad_slot_waiters",
        sa.Column(
            "ticket",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_hash", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ticket", name="pk_qad_slot_waiters"),
        sa.UniqueConstraint("tenant_hash", "holder", name="uq_qad_slot_waiters_tenant_hash_holder"),
    )


def downgrade() -> None:
    op.drop_table("qad_slot_waiters")
