"""deliveries.kind: scheduled posts and manual sends (send-now of a given story date)

Scheduled posts stay unique on (subscription, digest date, language); a manual send is unique
on (subscription, digest date, story date, language): the same story date sent twice on the
same local day is posted once, and never collides with the day's scheduled post.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SCHEDULED = sa.text("kind = 'scheduled'")
_MANUAL = sa.text("kind = 'manual'")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=9), nullable=False, server_default="scheduled")
        )
        batch_op.drop_constraint("uq_deliveries_once", type_="unique")
    op.create_index(
        "uq_deliveries_scheduled",
        "deliveries",
        ["subscription_id", "digest_date", "lang"],
        unique=True,
        sqlite_where=_SCHEDULED,
        postgresql_where=_SCHEDULED,
    )
    op.create_index(
        "uq_deliveries_manual",
        "deliveries",
        ["subscription_id", "digest_date", "story_date", "lang"],
        unique=True,
        sqlite_where=_MANUAL,
        postgresql_where=_MANUAL,
    )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE kind <> 'scheduled'")
    op.drop_index("uq_deliveries_manual", table_name="deliveries")
    op.drop_index("uq_deliveries_scheduled", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_deliveries_once", ["subscription_id", "digest_date", "lang"]
        )
        batch_op.drop_column("kind")
