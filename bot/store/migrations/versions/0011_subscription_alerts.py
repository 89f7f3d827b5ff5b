"""subscription_alerts: mention a role (Discord) or a user group (Slack) when the day's digest
involves a chosen person or organisation

Revision ID: 0011_alerts
Revises: 0010_corrections
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_alerts"
down_revision = "0010_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_alerts_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_alerts")),
        sa.UniqueConstraint("subscription_id", "subject", "target", name="uq_subscription_alerts"),
    )
    with op.batch_alter_table("subscription_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_alerts_subscription_id"), ["subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_alerts_subscription_id"))
    op.drop_table("subscription_alerts")
