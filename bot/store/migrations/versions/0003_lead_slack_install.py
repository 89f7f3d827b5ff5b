"""Slack installations in many workspaces: slack_sdk's installation, bot and OAuth state tables.

The tables are built by slack_sdk's own SQLAlchemy stores (`bot.slack.install.install_tables`),
so their columns are exactly what those stores read and write. Tokens in them are encrypted by
`bot.slack.install.EncryptedInstallationStore` before they are saved.

Revision ID: 0003_lead
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_lead"
down_revision = "0002"
branch_labels = None
depends_on = None


def _tables(metadata: sa.MetaData) -> tuple[sa.Table, ...]:
    from bot.slack.install import install_tables

    return install_tables(metadata)


def upgrade() -> None:
    metadata = sa.MetaData()
    for table in _tables(metadata):
        table.create(op.get_bind())


def downgrade() -> None:
    metadata = sa.MetaData()
    for table in reversed(_tables(metadata)):
        table.drop(op.get_bind())
