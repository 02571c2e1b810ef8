"""the organisation, the grid and the customers: county companies, sites, agents, skills, substations down to
supply points, customers, their phones and accounts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "county_companies",
        _id(),
        sa.Column("code", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
    )
    op.create_table(
        "sites",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("county_company_id", sa.Integer(), sa.ForeignKey("county_companies.id"), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
    )
    op.create_table(
        "skills",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
    )
    op.create_table(
        "agents",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("seat", sa.String(32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_agents_site_id", "agents", ["site_id"])
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("skill_id", sa.Integer(), sa.ForeignKey("skills.id"), primary_key=True),
        sa.Column("level", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agent_skills_skill_id", "agent_skills", ["skill_id"])

    op.create_table(
        "substations",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("voltage_kv", sa.Integer(), nullable=False),
        sa.Column("county_company_id", sa.Integer(), sa.ForeignKey("county_companies.id"), nullable=False),
    )
    op.create_index("ix_substations_county_company_id", "substations", ["county_company_id"])
    op.create_table(
        "feeders",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("substation_id", sa.Integer(), sa.ForeignKey("substations.id"), nullable=False),
    )
    op.create_index("ix_feeders_substation_id", "feeders", ["substation_id"])
    op.create_table(
        "transformer_areas",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("feeder_id", sa.Integer(), sa.ForeignKey("feeders.id"), nullable=False),
        sa.Column("capacity_kva", sa.Integer(), nullable=False),
    )
    op.create_index("ix_transformer_areas_feeder_id", "transformer_areas", ["feeder_id"])
    op.create_table(
        "meter_boxes",
        _id(),
        sa.Column("code", sa.String(24), nullable=False, unique=True),
        sa.Column("transformer_area_id", sa.Integer(), sa.ForeignKey("transformer_areas.id"), nullable=False),
    )
    op.create_index("ix_meter_boxes_transformer_area_id", "meter_boxes", ["transformer_area_id"])
    op.create_table(
        "meters",
        _id(),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("meter_box_id", sa.Integer(), sa.ForeignKey("meter_boxes.id"), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_meters_meter_box_id", "meters", ["meter_box_id"])
    op.create_table(
        "supply_points",
        _id(),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("transformer_area_id", sa.Integer(), sa.ForeignKey("transformer_areas.id"), nullable=False),
        sa.Column("meter_id", sa.Integer(), sa.ForeignKey("meters.id"), nullable=False),
    )
    op.create_index("ix_supply_points_transformer_area_id", "supply_points", ["transformer_area_id"])
    op.create_index("ix_supply_points_meter_id", "supply_points", ["meter_id"])

    op.create_table(
        "customers",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("customer_class", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("contracted_kva", sa.Integer(), nullable=False),
        sa.Column("account_manager_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("verification_hash", sa.String(160), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customers_account_manager_id", "customers", ["account_manager_id"])
    op.create_table(
        "customer_phones",
        _id(),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.UniqueConstraint("customer_id", "number"),
    )
    op.create_index("ix_customer_phones_customer_id", "customer_phones", ["customer_id"])
    op.create_index("ix_customer_phones_number", "customer_phones", ["number"])
    op.create_table(
        "accounts",
        _id(),
        sa.Column("number", sa.String(10), nullable=False, unique=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("supply_point_id", sa.Integer(), sa.ForeignKey("supply_points.id"), nullable=False),
        sa.Column("prepaid", sa.Boolean(), nullable=False),
        sa.Column("balance_fen", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_accounts_customer_id", "accounts", ["customer_id"])
    op.create_index("ix_accounts_supply_point_id", "accounts", ["supply_point_id"])


def downgrade() -> None:
    for table in (
        "accounts",
        "customer_phones",
        "customers",
        "supply_points",
        "meters",
        "meter_boxes",
        "transformer_areas",
        "feeders",
        "substations",
        "agent_skills",
        "agents",
        "skills",
        "sites",
        "county_companies",
    ):
        op.drop_table(table)
