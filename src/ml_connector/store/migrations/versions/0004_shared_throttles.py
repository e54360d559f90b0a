"""Shared throttles: the Cin7 pacer's calls per application key, QAD's in-flight slots per tenant.

Revision ID: 0004_shared_throttles
Revises: 0003_alerts
Create Date: 2026-12-02

On PostgreSQL it also creates ``mlc_pacer_acquire``, the pacer's admission as one statement: it
locks the key's row, prunes the calls that left the window and either records a call or says
how long to wait, so the row lock is held for one round trip only (see
``ml_connector.jobs.pacer``). SQLite gets the tables (one schema for both) and no function: on
SQLite one process syncs and paces in memory.

Frozen like every revision: types are spelled out here, not imported from ``tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_shared_throttles"
down_revision: str | None = "0003_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACQUIRE = """
CREATE OR REPLACE FUNCTION mlc_pacer_acquire(
    p_key text,
    p_limit integer,
    p_window double precision,
    p_margin double precision,
    p_spacing double precision
) RETURNS TABLE (slot_id bigint, slot_at double precision, wait double precision)
LANGUAGE plpgsql AS $$
DECLARE
    v_now double precision;
    v_paused double precision;
    v_last double precision;
    v_count integer;
    v_edge double precision;
    v_wait double precision;
BEGIN
    INSERT INTO pacer_keys (key_hash) VALUES (p_key) ON CONFLICT (key_hash) DO NOTHING;
    SELECT k.paused_until, k.last_start INTO v_paused, v_last
        FROM pacer_keys k WHERE k.key_hash = p_key FOR UPDATE;
    -- Read the clock once the lock is ours: a call is stamped no earlier than its admission.
    v_now := extract(epoch FROM clock_timestamp());
    DELETE FROM pacer_calls c WHERE c.key_hash = p_key AND c.at <= v_now - p_window - p_margin;
    SELECT count(*) INTO v_count FROM pacer_calls c WHERE c.key_hash = p_key;
    v_wait := greatest(0, coalesce(v_paused, 0) - v_now, coalesce(v_last, 0) + p_spacing - v_now);
    IF v_count >= p_limit THEN
        -- The window has room again when the oldest calls beyond limit - 1 have left it.
        SELECT c.at INTO v_edge FROM pacer_calls c WHERE c.key_hash = p_key
            ORDER BY c.at OFFSET v_count - p_limit LIMIT 1;
        v_wait := greatest(v_wait, v_edge + p_window + p_margin - v_now);
    END IF;
    IF v_wait > 1e-9 THEN
        RETURN QUERY SELECT NULL::bigint, v_now, v_wait;
        RETURN;
    END IF;
    UPDATE pacer_keys SET last_start = v_now WHERE key_hash = p_key;
    RETURN QUERY INSERT INTO pacer_calls (key_hash, at) VALUES (p_key, v_now)
        RETURNING id, v_now, 0::double precision;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "pacer_keys",
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=True),
        sa.Column("last_start", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name="pk_pacer_keys"),
    )
    op.create_table(
        "pacer_calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pacer_calls"),
    )
    op.create_index("ix_pacer_calls_key_hash_at", "pacer_calls", ["key_hash", "at"])
    op.create_table(
        "qad_slots",
        sa.Column("tenant_hash", sa.String(32), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_hash", "slot", name="pk_qad_slots"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ACQUIRE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS mlc_pacer_acquire("
            "text, integer, double precision, double precision, double precision)"
        )
    for table in ("qad_slots", "pacer_calls", "pacer_keys"):
        op.drop_table(table)
