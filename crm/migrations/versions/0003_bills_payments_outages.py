"""bills, payments and outages

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("kwh", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        # Also the index of a bill summary's lookups by account.
        sa.UniqueConstraint("account_id", "period", name="uq_bills_account_period"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
    )
    op.create_index("ix_payments_account_paid_at", "payments", ["account_id", "paid_at"])
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("substation_id", sa.Integer(), sa.ForeignKey("substations.id"), nullable=True),
        sa.Column("feeder_id", sa.Integer(), sa.ForeignKey("feeders.id"), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_restoration_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outages_substation_id", "outages", ["substation_id"])
    op.create_index("ix_outages_feeder_id", "outages", ["feeder_id"])
    op.create_table(
        "outage_areas",
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id"), primary_key=True),
        sa.Column("transformer_area_id", sa.Integer(), sa.ForeignKey("transformer_areas.id"), primary_key=True),
    )
    op.create_index("ix_outage_areas_transformer_area_id", "outage_areas", ["transformer_area_id"])


def downgrade() -> None:
    for table in ("outage_areas", "outages", "payments", "bills"):
        op.drop_table(table)
