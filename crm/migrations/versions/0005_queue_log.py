"""queue_log: the ACD's events with the fields of Asterisk's queue_log

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("callid", sa.String(64), nullable=False),
        sa.Column("queuename", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("data1", sa.String(128), nullable=False),
        sa.Column("data2", sa.String(128), nullable=False),
        sa.Column("data3", sa.String(128), nullable=False),
        sa.Column("data4", sa.String(128), nullable=False),
        sa.Column("data5", sa.String(128), nullable=False),
    )
    op.create_index("ix_queue_log_time", "queue_log", ["time"])
    op.create_index("ix_queue_log_callid", "queue_log", ["callid"])
    op.create_index("ix_queue_log_agent", "queue_log", ["agent"])


def downgrade() -> None:
    op.drop_table("queue_log")
