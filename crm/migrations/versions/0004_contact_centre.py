"""the contact centre: contacts gain account, queue and agent times and a disposition; satisfaction results,
minimal work orders, and the history of tier changes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key to an existing table, so Alembic rebuilds it there.
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("queue", sa.String(32), nullable=True))
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agent_answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("agent_ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("disposition", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_contacts_account_id", "accounts", ["account_id"], ["id"])
        batch.create_foreign_key("fk_contacts_agent_id", "agents", ["agent_id"], ["id"])
        batch.create_index("ix_contacts_account_id", ["account_id"])
        batch.create_index("ix_contacts_agent_id", ["agent_id"])

    op.create_table(
        "satisfaction_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False, unique=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("summary", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_work_orders_customer_status", "work_orders", ["customer_id", "status"])
    op.create_index("ix_work_orders_account_id", "work_orders", ["account_id"])
    op.create_index("ix_work_orders_contact_id", "work_orders", ["contact_id"])
    op.create_table(
        "tier_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("old_tier", sa.String(16), nullable=False),
        sa.Column("new_tier", sa.String(16), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tier_changes_customer_id", "tier_changes", ["customer_id"])


def downgrade() -> None:
    for table in ("tier_changes", "work_orders", "satisfaction_results"):
        op.drop_table(table)
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_agent_id")
        batch.drop_index("ix_contacts_account_id")
        batch.drop_constraint("fk_contacts_agent_id", type_="foreignkey")
        batch.drop_constraint("fk_contacts_account_id", type_="foreignkey")
        for column in (
            "disposition",
            "agent_ended_at",
            "agent_answered_at",
            "agent_id",
            "queued_at",
            "queue",
            "account_id",
        ):
            batch.drop_column(column)
