"""one vocabulary: a call's disposition uses the intents' words (crm/vocabulary.py), so "bill" becomes "billing"

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE contacts SET disposition = 'billing' WHERE disposition = 'bill'")


def downgrade() -> None:
    op.execute("UPDATE contacts SET disposition = 'bill' WHERE disposition = 'billing'")
