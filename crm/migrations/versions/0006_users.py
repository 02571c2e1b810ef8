"""users: who logs in to the agent desktop, the supervisor monitor and the API, with a role; the agent's notes and
hot topics on a contact

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("login", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True, unique=True),
        sa.Column("county_company_id", sa.Integer(), sa.ForeignKey("county_companies.id"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("agent_notes", sa.String(2000), nullable=False, server_default=""))
        batch.add_column(sa.Column("topics", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("topics")
        batch.drop_column("agent_notes")
    op.drop_table("users")
