"""Alembic's entry: runs the migrations in versions/ on the connection crm.db.upgrade() passes in."""

from alembic import context

# Every table's module, so that the metadata holds the whole schema.
from crm import campaign_models, work_order_models  # noqa: F401
from crm.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
