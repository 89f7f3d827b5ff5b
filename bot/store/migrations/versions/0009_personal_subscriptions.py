"""subscriptions.user_id: personal subscriptions, delivered by DM (one per user and story)

Revision ID: 0009_personal
Revises: 0008_threads
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_personal"
down_revision = "0008_threads"
branch_labels = None
depends_on = None

_PERSONAL = sa.text("user_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_subscriptions_personal",
        "subscriptions",
        ["platform", "workspace_id", "user_id", "story_slug"],
        unique=True,
        sqlite_where=_PERSONAL,
        postgresql_where=_PERSONAL,
    )


def downgrade() -> None:
    op.drop_index("uq_subscriptions_personal", table_name="subscriptions")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("user_id")
