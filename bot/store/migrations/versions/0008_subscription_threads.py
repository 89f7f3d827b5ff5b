"""subscriptions.thread: a thread per daily digest (Discord), replies in its thread (Slack)

Existing subscriptions keep posting in the channel (the server default ``none``).

Revision ID: 0008_threads
Revises: 0007_schedules
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_threads"
down_revision = "0007_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thread", sa.String(length=8), nullable=False, server_default="none")
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("thread")
