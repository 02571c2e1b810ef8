"""the work-order flow: work orders gain their state in the 95598 flow, where they are in the grid, who made them
and the contact clock; their history; outages found from calls and the reports attached to an outage

Existing orders (open or closed, from the minimal table of 0004) become `created` and `archived` orders, with
their place in the grid and tier taken from their account and a history that starts with their creation.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_FOREIGN_KEYS = (
    ("fk_work_orders_supply_point_id", "supply_point_id", "supply_points"),
    ("fk_work_orders_transformer_area_id", "transformer_area_id", "transformer_areas"),
    ("fk_work_orders_feeder_id", "feeder_id", "feeders"),
    ("fk_work_orders_county_company_id", "county_company_id", "county_companies"),
    ("fk_work_orders_created_by_id", "created_by_id", "users"),
)
_INDEXES = (
    ("ix_work_orders_contact_clock", ["state", "contact_deadline"]),
    ("ix_work_orders_feeder_created", ["feeder_id", "created_at"]),
    ("ix_work_orders_county_state", ["county_company_id", "state"]),
    ("ix_work_orders_created_by_id", ["created_by_id"]),
)
_MOMENTS = ("dispatched_at", "contact_deadline", "contacted_at", "escalated_at", "crew_expected_at")


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key to an existing table, so Alembic rebuilds it there.
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="created"))
        batch.add_column(sa.Column("origin", sa.String(8), nullable=False, server_default="agent"))
        batch.add_column(sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("tier", sa.String(16), nullable=True))
        batch.add_column(sa.Column("supply_point_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("transformer_area_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("feeder_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("address", sa.String(128), nullable=False, server_default=""))
        batch.add_column(sa.Column("neighbours_out", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("callback_number", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("county_company_id", sa.Integer(), nullable=True))
        for moment in _MOMENTS:
            batch.add_column(sa.Column(moment, sa.DateTime(timezone=True), nullable=True))
        for name, column, table in _FOREIGN_KEYS:
            batch.create_foreign_key(name, table, [column], ["id"])
        for name, columns in _INDEXES:
            batch.create_index(name, columns)

    with op.batch_alter_table("outages") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="recorded"))
        batch.add_column(sa.Column("suspected", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "work_order_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("work_order_id", sa.Integer(), sa.ForeignKey("work_orders.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("county_company_id", sa.Integer(), sa.ForeignKey("county_companies.id"), nullable=True),
        sa.Column("notes", sa.String(1024), nullable=False, server_default=""),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("crew_expected_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_work_order_steps_order", "work_order_steps", ["work_order_id", "id"])
    op.create_table(
        "outage_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id"), nullable=False),
        sa.Column("work_order_id", sa.Integer(), sa.ForeignKey("work_orders.id"), nullable=True, unique=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("callback_number", sa.String(32), nullable=False, server_default=""),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outage_reports_outage_id", "outage_reports", ["outage_id"])
    op.create_index("ix_outage_reports_contact_id", "outage_reports", ["contact_id"])

    _migrate_existing_orders()


def _migrate_existing_orders() -> None:
    """The minimal orders of 0004 in the new flow: closed ones archived, open ones waiting for dispatch; where they
    are, the tier and the number to call back taken from their account, customer and call."""
    run = op.execute
    run("UPDATE work_orders SET state = CASE WHEN status = 'closed' THEN 'archived' ELSE 'created' END")
    # The IVR's repair orders said so in their summary, and whether the neighbours were out too.
    run("UPDATE work_orders SET origin = 'ivr' WHERE summary LIKE 'IVR报修%'")
    run("UPDATE work_orders SET neighbours_out = (summary LIKE 'IVR报修：邻居也停电%') WHERE summary LIKE 'IVR报修%'")
    run(
        "UPDATE work_orders SET supply_point_id ="
        " (SELECT a.supply_point_id FROM accounts a WHERE a.id = work_orders.account_id)"
        " WHERE account_id IS NOT NULL"
    )
    run(
        "UPDATE work_orders SET transformer_area_id ="
        " (SELECT p.transformer_area_id FROM supply_points p WHERE p.id = work_orders.supply_point_id)"
        " WHERE supply_point_id IS NOT NULL"
    )
    run(
        "UPDATE work_orders SET feeder_id ="
        " (SELECT t.feeder_id FROM transformer_areas t WHERE t.id = work_orders.transformer_area_id)"
        " WHERE transformer_area_id IS NOT NULL"
    )
    run(
        "UPDATE work_orders SET county_company_id ="
        " (SELECT s.county_company_id FROM feeders f JOIN substations s ON s.id = f.substation_id"
        " WHERE f.id = work_orders.feeder_id)"
        " WHERE feeder_id IS NOT NULL"
    )
    run(
        "UPDATE work_orders SET tier = (SELECT c.tier FROM customers c WHERE c.id = work_orders.customer_id)"
        " WHERE customer_id IS NOT NULL"
    )
    run(
        "UPDATE work_orders SET callback_number ="
        " COALESCE((SELECT c.caller_number FROM contacts c WHERE c.id = work_orders.contact_id), '')"
        " WHERE contact_id IS NOT NULL"
    )
    # A text literal is not JSON to PostgreSQL; SQLite keeps JSON as text.
    empty = "CAST('[]' AS JSON)" if op.get_bind().dialect.name == "postgresql" else "'[]'"
    run(
        "INSERT INTO work_order_steps (work_order_id, at, action, from_state, to_state, actor, notes, evidence)"
        f" SELECT id, created_at, 'create', NULL, 'created', 'migration', summary, {empty} FROM work_orders"
    )
    run(
        "INSERT INTO work_order_steps (work_order_id, at, action, from_state, to_state, actor, notes, evidence)"
        f" SELECT id, COALESCE(closed_at, created_at), 'archive', NULL, 'archived', 'migration', '', {empty}"
        " FROM work_orders WHERE status = 'closed'"
    )


def downgrade() -> None:
    op.drop_table("outage_reports")
    op.drop_index("ix_work_order_steps_order", table_name="work_order_steps")
    op.drop_table("work_order_steps")
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("suspected")
        batch.drop_column("origin")
    # `status` was kept in step with the state all along: the minimal table needs nothing else.
    with op.batch_alter_table("work_orders") as batch:
        for name, _ in _INDEXES:
            batch.drop_index(name)
        for name, _, _ in _FOREIGN_KEYS:
            batch.drop_constraint(name, type_="foreignkey")
        for moment in reversed(_MOMENTS):
            batch.drop_column(moment)
        for column in (
            "county_company_id",
            "created_by_id",
            "callback_number",
            "neighbours_out",
            "address",
            "feeder_id",
            "transformer_area_id",
            "supply_point_id",
            "tier",
            "anonymous",
            "origin",
            "state",
        ):
            batch.drop_column(column)
