"""The demo utility: realistic, the same every time for the same size, safe to seed twice, seeded by
`app.py seed` and by `app.py run` on an empty database, with no secret stored in plain text."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from crm import db
from crm.contacts import ContactLog
from crm.models import (
    Account,
    Agent,
    AgentSkill,
    Bill,
    Contact,
    CountyCompany,
    Customer,
    Feeder,
    Outage,
    Site,
    Skill,
    Substation,
    TransformerArea,
)
from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind
from demo import seed
from hotline import periods
from hotline.config import REPO_DIR
from testbed.sandbox import SANDBOX_DEMO_CUSTOMERS
from tests.conftest import CRM_DEMO_CUSTOMERS, DemoDatabase, Testbed, scratch_database


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_a_city_grid_of_thousands_of_transformer_areas_at_full_size() -> None:
    substations, feeders, areas = seed.grid_size(100_000)
    assert areas >= 4000 and feeders >= 200 and substations >= 20
    assert seed.grid_size(10) == (12, 24, 48)


# Who may import demo/: the demo itself, the one entry point, the process stack that seeds it on `app.py run`, the
# tests and the benchmarks. The running hotline never does.
DEMO_IMPORTERS = ("demo/", "app.py", "hotline/stack.py", "tests/", "bench/")


def _imports_demo(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "demo" or name.startswith("demo.") for name in names):
            return True
    return False


def test_only_the_entry_point_the_stack_tests_and_benchmarks_import_the_demo() -> None:
    sources = [p.relative_to(REPO_DIR).as_posix() for p in REPO_DIR.rglob("*.py")]
    sources = [s for s in sources if not any(part.startswith(".") for part in s.split("/"))]
    assert "hotline/stack.py" in sources and _imports_demo(REPO_DIR / "hotline" / "stack.py")
    importers = [s for s in sources if not s.startswith(DEMO_IMPORTERS) and _imports_demo(REPO_DIR / s)]
    assert importers == []


def test_the_demo_is_a_realistic_utility(demo_utility: DemoDatabase) -> None:
    engine = demo_utility.engine
    substations, feeders, areas = seed.grid_size(CRM_DEMO_CUSTOMERS)
    assert _count(engine, CountyCompany) == 6
    assert (_count(engine, Substation), _count(engine, Feeder)) == (substations, feeders)
    assert _count(engine, TransformerArea) == areas
    assert _count(engine, Customer) == CRM_DEMO_CUSTOMERS
    today = periods.local_day(periods.now_utc())
    with demo_utility.sessions() as session:
        classes = {
            cls: count
            for cls, count in session.execute(
                select(Customer.customer_class, func.count()).group_by(Customer.customer_class)
            )
        }
        assert set(classes) == set(CustomerClass) and classes[CustomerClass.RESIDENTIAL] > 0.8 * CRM_DEMO_CUSTOMERS
        periods_billed = session.scalars(select(Bill.period).distinct()).all()
        assert len(periods_billed) == 12
        overdue = session.scalar(
            select(func.count(func.distinct(Bill.account_id))).where(Bill.paid_on.is_(None), Bill.due_date < today)
        )
        assert overdue and 0.01 * CRM_DEMO_CUSTOMERS < overdue < 0.15 * CRM_DEMO_CUSTOMERS
        unbilled = session.scalar(select(func.count()).where(~Account.id.in_(select(Bill.account_id))))
        assert unbilled and unbilled > 0
        # Every key account has its manager, an agent with the key-account skill.
        managers = session.execute(
            select(Customer.account_manager_id, Skill.code)
            .join(AgentSkill, AgentSkill.agent_id == Customer.account_manager_id, isouter=True)
            .join(Skill, Skill.id == AgentSkill.skill_id, isouter=True)
            .where(Customer.tier == Tier.KEY_ACCOUNT, Skill.code == "key_account")
        ).all()
        key_accounts = session.scalar(select(func.count()).where(Customer.tier == Tier.KEY_ACCOUNT))
        assert key_accounts and len(managers) == key_accounts
        assert session.scalar(select(func.count()).where(Customer.tier == Tier.ATTENTION))
        critical = session.scalars(select(Customer.tier).where(Customer.customer_class == CustomerClass.CRITICAL_LOAD))
        assert set(critical) == {Tier.KEY_ACCOUNT}
        sites = session.scalar(select(func.count(func.distinct(Agent.site_id))))
        remote = session.scalar(select(func.count()).select_from(Site).where(Site.county_company_id.is_not(None)))
        assert sites == 4 and remote == 3
        active = session.scalars(select(Outage.kind).where(Outage.restored_at.is_(None))).all()
        assert active.count(OutageKind.FAULT) == 1 and len(active) >= 5
    assert {c.scenario for c in demo_utility.summary.callers} >= {
        "all paid",
        "in arrears",
        "active fault",
        "planned outage",
        "several accounts",
        "key account",
        "no bills yet",
        "prepaid",
        "shared number",
    }


def test_seeding_again_changes_nothing(small_demo_utility: DemoDatabase) -> None:
    engine = small_demo_utility.engine
    before = [_count(engine, model) for model in (Customer, Account, Bill, Outage)]
    again = seed.seed_if_empty(engine, 300, progress=False)
    assert not again.created and again.callers == ()
    # The agents are listed again (for whoever missed the first print); the callers' secrets are not.
    assert again.agents == small_demo_utility.summary.agents
    assert (again.customers, again.accounts, again.bills) == tuple(before[:3])
    assert [_count(engine, model) for model in (Customer, Account, Bill, Outage)] == before
    assert "already seeded" in again.lines()[0]


def test_new_rows_get_fresh_ids_after_the_seed(small_demo_utility: DemoDatabase) -> None:
    # The seed writes explicit ids; on PostgreSQL their sequences must have been moved past them.
    with small_demo_utility.sessions() as session:
        seeded = session.scalar(select(func.max(Contact.id)))
    assert seeded
    log = ContactLog(small_demo_utility.sessions)
    draft = log.open("1700000000.7", "13900000007", "95598", "PJSIP/trunk-7", "zh")
    log.close(draft, "completed")
    assert draft.contact_id > seeded
    contact = log.by_uniqueid("1700000000.7")
    assert contact is not None and contact.outcome == "completed"


def _snapshot(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return [
            connection.execute(
                select(
                    Customer.id,
                    Customer.name,
                    Customer.customer_class,
                    Customer.tier,
                    Customer.contracted_kva,
                    Customer.account_manager_id,
                ).order_by(Customer.id)
            ).all(),
            connection.execute(
                select(Account.number, Account.customer_id, Account.prepaid, Account.balance_fen).order_by(Account.id)
            ).all(),
            connection.execute(
                select(Bill.account_id, Bill.period, Bill.kwh, Bill.amount_fen, Bill.due_date, Bill.paid_on).order_by(
                    Bill.id
                )
            ).all(),
            connection.execute(select(Outage.kind, Outage.starts_at, Outage.reason).order_by(Outage.id)).all(),
        ]


def test_the_same_size_seeds_the_same_utility_on_both_databases(empty_database: str, tmp_path: Path) -> None:
    now = datetime(2026, 3, 14, 9, 26, tzinfo=UTC)
    snapshots = []
    with scratch_database("sqlite", tmp_path / "reference") as reference:
        for url in (reference, empty_database):
            db.upgrade(url)
            engine = db.make_engine(url)
            try:
                summary = seed.seed_if_empty(engine, 400, now=now, progress=False)
                assert summary.created
                snapshots.append(_snapshot(engine))
            finally:
                engine.dispose()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0][2]) > 400 * 10


def _app(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_PATHS_STATE_DIR": str(state_dir), "HOTLINE_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_app_seed_prints_agents_and_callers_once_and_retier_finds_nothing_to_change(tmp_path: Path) -> None:
    first = _app(tmp_path, "seed", "--customers", "300")
    assert first.returncode == 0, first.stderr
    assert "seeded 300 customers" in first.stdout
    assert "agents (staff number" in first.stdout and "A1001" in first.stdout
    assert "demo callers" in first.stdout
    secrets = [line.split()[-1] for line in first.stdout.splitlines() if line.startswith("  in arrears")]
    assert len(secrets) == 1 and len(secrets[0]) == 6
    second = _app(tmp_path, "seed", "--customers", "300")
    assert second.returncode == 0, second.stderr
    assert "already seeded" in second.stdout and "demo callers" not in second.stdout
    retier = _app(tmp_path, "crm", "retier")
    assert retier.returncode == 0, retier.stderr
    assert "retiered 300 customers" in retier.stdout and "0 changed" in retier.stdout
    # The printed secret is stored only as a hash.
    engine = db.make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    try:
        with engine.connect() as connection:
            hashes = connection.scalars(
                select(Customer.verification_hash).where(Customer.verification_hash.is_not(None))
            )
            stored = list(hashes)
    finally:
        engine.dispose()
    assert stored and all(h.startswith("scrypt$") and secrets[0] not in h for h in stored)


def test_app_run_seeds_an_empty_database(testbed: Testbed) -> None:
    assert testbed.config.demo.customers == SANDBOX_DEMO_CUSTOMERS
    assert testbed.hotline.demo is not None and testbed.hotline.demo.created
    with testbed.hotline.engine.connect() as connection:
        seeded = connection.scalar(select(func.count()).select_from(Customer).where(Customer.name.not_like("测试%")))
    assert seeded == SANDBOX_DEMO_CUSTOMERS


def test_demo_orders_are_in_the_flow_and_every_login_is_printed_once(demo_utility: DemoDatabase) -> None:
    from crm.models import User
    from crm.work_order_models import WorkOrder

    with demo_utility.sessions() as session:
        states = {(status, state) for status, state in session.execute(select(WorkOrder.status, WorkOrder.state))}
        users = {u.login: u.role.value for u in session.scalars(select(User))}
    assert states <= {("open", "created"), ("closed", "archived")} and ("open", "created") in states
    printed = {lg.login: lg.role for lg in demo_utility.summary.logins}
    assert printed == users
    assert users["supervisor"] == "supervisor" and users["dispatch"] == "dispatcher"
    assert sum(role == "agent" for role in users.values()) == len(demo_utility.summary.agents)
    lines = "\n".join(demo_utility.summary.lines())
    assert all(lg.password in lines for lg in demo_utility.summary.logins)
