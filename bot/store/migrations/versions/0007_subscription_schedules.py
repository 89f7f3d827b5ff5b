"""subscriptions.days, .cadence, .format: chosen days, weekly roll-ups, compact posts

Existing subscriptions keep posting the full digest every day (the server defaults).

Revision ID: 0007_schedules
Revises: 0006_stories
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_schedules"
down_revision = "0006_stories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("days", sa.Integer(), nullable=False, server_default="127"))
        batch_op.add_column(
            sa.Column("cadence", sa.String(length=8), nullable=False, server_default="daily")
        )
        batch_op.add_column(
            sa.Column("format", sa.String(length=8), nullable=False, server_default="full")
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("format")
        batch_op.drop_column("cadence")
        batch_op.drop_column("days")
