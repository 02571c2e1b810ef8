"""The migrations build the whole schema from empty on SQLite and on PostgreSQL, exactly as the models declare
it, and can be run again, or undone and redone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from crm import campaign_models, db, work_order_models  # noqa: F401 (their tables are part of the schema compared)
from crm.contacts import ContactLog
from crm.models import Base

TABLES = {
    "contacts",
    "users",
    "queue_log",
    "county_companies",
    "sites",
    "skills",
    "agents",
    "agent_skills",
    "substations",
    "feeders",
    "transformer_areas",
    "meter_boxes",
    "meters",
    "supply_points",
    "customers",
    "customer_phones",
    "accounts",
    "bills",
    "payments",
    "outages",
    "outage_areas",
    "satisfaction_results",
    "work_orders",
    "work_order_steps",
    "outage_reports",
    "tier_changes",
    "campaigns",
    "campaign_callees",
    "campaign_attempts",
    "call_opt_outs",
    "manager_tasks",
}


def _differences(url: str) -> list[object]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_from_empty_builds_what_the_models_declare(empty_database: str) -> None:
    db.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()
    assert _differences(empty_database) == []


def test_upgrade_twice_changes_nothing_and_keeps_the_contact_log_working(empty_database: str) -> None:
    db.upgrade(empty_database)
    db.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        log = ContactLog(db.session_factory(engine))
        draft = log.open("1700000000.1", "13800000001", "95598", "PJSIP/trunk-1", "zh")
        draft.step("greeting", key="1")
        log.close(draft, "completed")
        contact = log.by_uniqueid("1700000000.1")
        assert contact is not None and contact.outcome == "completed" and contact.account_id is None
        assert contact.started_at.tzinfo is not None
    finally:
        engine.dispose()


def _alembic(connection: Connection) -> AlembicConfig:
    """Alembic's configuration for running the migrations over `connection`."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def test_downgrade_to_the_first_revision_and_back(empty_database: str) -> None:
    db.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        with engine.begin() as connection:
            command.downgrade(_alembic(connection), "0001")
        assert set(inspect(engine).get_table_names()) == {"contacts", "alembic_version"}
        assert "account_id" not in {c["name"] for c in inspect(engine).get_columns("contacts")}
    finally:
        engine.dispose()
    db.upgrade(empty_database)
    assert _differences(empty_database) == []


def test_a_disposition_stored_as_bill_becomes_the_intent_billing(empty_database: str) -> None:
    """0009: the desk once stored "bill"; the one vocabulary (crm/vocabulary.py) calls it "billing"."""
    engine = db.make_engine(empty_database)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic(connection), "0008")
            connection.exec_driver_sql(
                "INSERT INTO contacts (uniqueid, caller_number, dialled_number, channel, language, started_at, "
                "ivr_path, digits, disposition) VALUES "
                "('c-bill', '13800000000', '95598', 'PJSIP/x', 'zh', '2026-12-01 08:00:00', '[]', '', 'bill'), "
                "('c-repair', '13800000001', '95598', 'PJSIP/y', 'zh', '2026-12-01 08:00:00', '[]', '', 'repair')"
            )
        db.upgrade(empty_database)
        with engine.connect() as connection:
            rows = dict(connection.exec_driver_sql("SELECT uniqueid, disposition FROM contacts").all())
        assert rows == {"c-bill": "billing", "c-repair": "repair"}
    finally:
        engine.dispose()
