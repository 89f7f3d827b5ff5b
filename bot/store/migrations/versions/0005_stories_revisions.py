"""story_revisions: stories live in the database as numbered, validated revisions

Revision ID: 0005_stories
Revises: 0004_budget
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_stories"
down_revision = "0004_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_story_revisions"),
        sa.UniqueConstraint("slug", "revision", name="uq_story_revisions_slug_revision"),
    )
    op.create_index("ix_story_revisions_slug_digest", "story_revisions", ["slug", "digest"])


def downgrade() -> None:
    op.drop_index("ix_story_revisions_slug_digest", table_name="story_revisions")
    op.drop_table("story_revisions")
