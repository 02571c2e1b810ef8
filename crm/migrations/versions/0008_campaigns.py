"""campaigns: outbound notices (planned outages, restorations, bill reminders, arrears), their callees and every
attempt, customers' opt-outs, and key-account managers' tasks

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("trunk", sa.String(32), nullable=False),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id"), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _moment("created_at", nullable=False),
        _moment("started_at"),
        _moment("ended_at"),
    )
    op.create_index("ix_campaigns_state", "campaigns", ["state"])
    op.create_index("ix_campaigns_outage_id", "campaigns", ["outage_id"])
    op.create_table(
        "campaign_callees",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _moment("next_attempt_at"),
        sa.Column("claim_token", sa.String(32), nullable=True),
        _moment("claimed_at"),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        _moment("done_at"),
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_callees_customer"),
    )
    op.create_index("ix_campaign_callees_due", "campaign_callees", ["state", "next_attempt_at"])
    op.create_index("ix_campaign_callees_campaign_state", "campaign_callees", ["campaign_id", "state"])
    op.create_index("ix_campaign_callees_customer_id", "campaign_callees", ["customer_id"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("callee_id", sa.Integer(), sa.ForeignKey("campaign_callees.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("trunk", sa.String(32), nullable=False),
        _moment("claimed_at", nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _moment("ended_at"),
    )
    op.create_index("ix_campaign_attempts_callee", "campaign_attempts", ["callee_id", "id"])
    op.create_index("ix_campaign_attempts_campaign_outcome", "campaign_attempts", ["campaign_id", "outcome"])
    op.create_table(
        "call_opt_outs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        _moment("recorded_at", nullable=False),
        sa.UniqueConstraint("customer_id", "kind", name="uq_call_opt_outs_customer_kind"),
    )
    op.create_table(
        "manager_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        _moment("created_at", nullable=False),
        _moment("done_at"),
        sa.Column("notes", sa.String(1024), nullable=False),
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_manager_tasks_customer"),
    )
    op.create_index("ix_manager_tasks_campaign_id", "manager_tasks", ["campaign_id"])
    op.create_index("ix_manager_tasks_agent_done", "manager_tasks", ["agent_id", "done_at"])


def downgrade() -> None:
    for table in ("manager_tasks", "call_opt_outs", "campaign_attempts", "campaign_callees", "campaigns"):
        op.drop_table(table)
