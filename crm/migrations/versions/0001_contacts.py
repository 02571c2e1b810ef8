"""contacts: one row per call

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uniqueid", sa.String(64), nullable=False),
        sa.Column("caller_number", sa.String(32), nullable=False),
        sa.Column("dialled_number", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ivr_path", sa.JSON(), nullable=False),
        sa.Column("digits", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
    )
    op.create_index("ix_contacts_uniqueid", "contacts", ["uniqueid"], unique=True)
    op.create_index("ix_contacts_caller_number", "contacts", ["caller_number"])


def downgrade() -> None:
    op.drop_table("contacts")
