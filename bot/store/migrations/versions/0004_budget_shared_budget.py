"""rate_budgets and instances: one rate budget per bot across instances, and heartbeats

``rate_budgets`` holds one GCRA token bucket per bot and limit, shared by every instance that
uses the same database and token (`bot.budget`). ``instances`` holds each running instance's
last heartbeat: the claims of an instance that stopped beating are handed back to the others
(`bot.instances`).

Revision ID: 0004_budget
Revises: 0003_lead
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_budget"
down_revision = "0003_lead"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budgets")),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
    )
    op.create_index(op.f("ix_instances_seen_at"), "instances", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_instances_seen_at"), table_name="instances")
    op.drop_table("instances")
    op.drop_table("rate_budgets")
