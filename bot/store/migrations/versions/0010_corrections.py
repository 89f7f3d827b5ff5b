"""corrections and breaking alerts: new delivery kinds and two subscription settings

- ``deliveries.kind`` grows to 16 characters: ``correction`` (an edit, or a notice, of a post
  already out, once per (post, story revision)) and ``breaking`` (an alert, once per
  subscription, event and language);
- ``deliveries.story_revision``: the story revision a post shows (a correction: the revision
  it brings); ``base_revision``: the revision a correction corrects; ``parent_id``: the post a
  correction corrects; ``event_id``: the event of a breaking alert;
- ``subscriptions.corrections`` (edit | notice | off, default edit) and
  ``subscriptions.breaking`` (default off).

Revision ID: 0010_corrections
Revises: 0009_personal
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_corrections"
down_revision = "0009_personal"
branch_labels = None
depends_on = None

_CORRECTION = sa.text("kind = 'correction'")
_BREAKING = sa.text("kind = 'breaking'")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=9),
            type_=sa.String(length=16),
            existing_nullable=False,
            existing_server_default="scheduled",
        )
        batch_op.add_column(sa.Column("story_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("base_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.String(length=64), nullable=True))
    op.create_index("ix_deliveries_story_revision", "deliveries", ["story_revision"], unique=False)
    op.create_index(
        "uq_deliveries_correction",
        "deliveries",
        ["parent_id", "story_revision"],
        unique=True,
        sqlite_where=_CORRECTION,
        postgresql_where=_CORRECTION,
    )
    op.create_index(
        "uq_deliveries_breaking",
        "deliveries",
        ["subscription_id", "event_id", "lang"],
        unique=True,
        sqlite_where=_BREAKING,
        postgresql_where=_BREAKING,
    )
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies and drops the table, and dropping
    # ``subscriptions`` would cascade to every delivery.
    op.add_column(
        "subscriptions",
        sa.Column("corrections", sa.String(length=8), nullable=False, server_default="edit"),
    )
    op.add_column(
        "subscriptions",
        sa.Column("breaking", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("subscriptions", "breaking")
    op.drop_column("subscriptions", "corrections")
    op.execute("DELETE FROM deliveries WHERE kind IN ('correction', 'breaking')")
    op.drop_index("uq_deliveries_breaking", table_name="deliveries")
    op.drop_index("uq_deliveries_correction", table_name="deliveries")
    op.drop_index("ix_deliveries_story_revision", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("event_id")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("base_revision")
        batch_op.drop_column("story_revision")
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            type_=sa.String(length=9),
            existing_nullable=False,
            existing_server_default="scheduled",
        )
