"""Read services over the customer data, for the IVR and the agents' screen-pop. Every answer is a typed result;
bad input and a failing database come back as a Refusal, never as an exception."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm import account_numbers, grid
from crm.models import (
    Account,
    Agent,
    Bill,
    Contact,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Meter,
    Outage,
    OutageArea,
    Payment,
    SatisfactionResult,
    Substation,
    SupplyPoint,
    TierChange,
    TransformerArea,
)
from crm.tiers import CustomerClass, Tier
from crm.verification import verify_secret
from crm.vocabulary import OutageKind, OutageScope
from crm.work_order_models import WorkOrder
from hotline import periods

log = logging.getLogger(__name__)

# A caller whose number has more accounts than this is asked to type the account number; nine is what the
# keypad can offer as a menu.
MAX_LISTED = 9
UPCOMING = timedelta(days=7)
RECENT_CONTACTS = 10


class Problem(StrEnum):
    MALFORMED = "malformed"  # not an account or phone number at all
    BAD_CHECK_DIGIT = "bad_check_digit"  # ten digits, but mistyped: no lookup was made
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_CALLER = "unknown_caller"  # the number is registered by no customer
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNAVAILABLE = "unavailable"  # the database failed: hand the caller to a person


@dataclass(frozen=True)
class Refusal:
    problem: Problem
    detail: str


@dataclass(frozen=True)
class AccountSummary:
    """An account and where it sits: enough for the IVR to confirm it and for triage (一户一表)."""

    number: str
    customer_id: int
    customer_name: str
    customer_class: CustomerClass
    tier: Tier
    prepaid: bool
    address: str
    own_meter: bool  # one household, one meter (一户一表)
    transformer_area: str
    feeder: str
    substation: str
    county_company: str
    # Internal keys, for the outage lookup through the topology.
    account_id: int
    transformer_area_id: int
    feeder_id: int
    substation_id: int


@dataclass(frozen=True)
class CallerAccounts:
    """The accounts registered under a caller's number: one (identified), or several (ask which)."""

    caller_number: str
    accounts: tuple[AccountSummary, ...]  # at most MAX_LISTED, in account-number order
    total: int

    @property
    def single(self) -> AccountSummary | None:
        return self.accounts[0] if self.total == 1 else None

    @property
    def too_many_to_list(self) -> bool:
        return self.total > MAX_LISTED


@dataclass(frozen=True)
class BillLine:
    period: str
    kwh: int
    amount_fen: int
    due_date: date
    paid_on: date | None


@dataclass(frozen=True)
class PaymentLine:
    paid_at: datetime
    amount_fen: int
    channel: str


@dataclass(frozen=True)
class BillSummary:
    """What the caller hears for 电费查询: amounts in fen, read out as 元 角 分."""

    account_number: str
    amount_due_fen: int  # every unpaid bill
    due_date: date | None  # the earliest due date of those; None when nothing is owed
    arrears_fen: int  # unpaid after the due date (欠费)
    overdue_bills: int
    latest_bill: BillLine
    last_payment: PaymentLine | None
    prepaid: bool
    balance_fen: int


@dataclass(frozen=True)
class NoBillsYet:
    """A new account: nothing billed so far (the IVR says so rather than reading out zeros)."""

    account_number: str
    prepaid: bool
    balance_fen: int
    last_payment: PaymentLine | None


@dataclass(frozen=True)
class OutageNotice:
    outage_id: int
    kind: OutageKind
    scope: OutageScope
    where: str  # the substation, the feeder, or the caller's transformer area
    reason: str
    starts_at: datetime
    expected_restoration_at: datetime | None


@dataclass(frozen=True)
class AccountOutages:
    account_number: str
    current: tuple[OutageNotice, ...]
    upcoming: tuple[OutageNotice, ...]  # starting within the next UPCOMING


@dataclass(frozen=True)
class ContactLine:
    started_at: datetime
    caller_number: str
    outcome: str | None
    disposition: str | None
    satisfaction: int | None


@dataclass(frozen=True)
class WorkOrderLine:
    number: str
    kind: str
    summary: str
    created_at: datetime


@dataclass(frozen=True)
class Customer360:
    """Everything an agent's screen-pop shows about a customer (客户全景视图)."""

    customer_id: int
    name: str
    customer_class: CustomerClass
    tier: Tier
    account_manager: str | None  # "A1004 叶芳" for a key account
    phones: tuple[str, ...]
    accounts: tuple[AccountSummary, ...]
    bills: tuple[BillSummary | NoBillsYet, ...]  # one per account, in the same order
    current_outages: tuple[OutageNotice, ...]  # reaching any of the customer's accounts
    upcoming_outages: tuple[OutageNotice, ...]
    recent_contacts: tuple[ContactLine, ...]
    open_work_orders: tuple[WorkOrderLine, ...]
    last_tier_change: str | None


P = ParamSpec("P")
R = TypeVar("R")


def _answers(
    method: Callable[Concatenate[CustomerService, P], R],
) -> Callable[Concatenate[CustomerService, P], R | Refusal]:
    """The service boundary: a database failure becomes Refusal(UNAVAILABLE), logged once, so that the IVR
    can hand the caller to a person instead of dropping the call."""

    @functools.wraps(method)
    def guarded(service: CustomerService, /, *args: P.args, **kwargs: P.kwargs) -> R | Refusal:
        try:
            return method(service, *args, **kwargs)
        except SQLAlchemyError as exc:
            log.error("%s failed in the database: %s", method.__name__, exc.__class__.__name__, exc_info=True)
            return Refusal(Problem.UNAVAILABLE, "the customer database is not answering")
        except Exception:
            # A defect, not bad input: logged in full, and still an answer the IVR can act on.
            log.exception("%s failed", method.__name__)
            return Refusal(Problem.UNAVAILABLE, "the customer data could not be read")

    return guarded


def normalise_account_number(digits: str) -> str | Refusal:
    """Check the typed number before any lookup: what a caller keyed in (spaces and the closing # are
    allowed) becomes the ten-digit number, or a Refusal saying what is wrong with it."""
    number = digits.strip().rstrip("#").replace(" ", "")
    if len(number) != account_numbers.LENGTH or not (number.isascii() and number.isdigit()):
        return Refusal(Problem.MALFORMED, f"an account number has {account_numbers.LENGTH} digits")
    if not account_numbers.is_valid(number):
        return Refusal(Problem.BAD_CHECK_DIGIT, "the check digit does not match: the number was mistyped")
    return number


def normalise_phone_number(raw: str) -> str | Refusal:
    """A caller number in the national form the customers' phones are registered in: digits only, without
    the +86 / 0086 country code."""
    digits = "".join(c for c in raw if c.isascii() and c.isdigit())
    if raw.strip().startswith("+") and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 5:
        return Refusal(Problem.MALFORMED, "no usable caller number (withheld or too short)")
    return digits


class CustomerService:
    """The read services. Each call opens its own short session from `sessions` and runs statements built
    once at import (building a SELECT costs more than SQLite takes to answer it)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = periods.now_utc) -> None:
        self.sessions = sessions
        self.clock = clock

    # --- identification ---

    @_answers
    def accounts_by_caller(self, caller_number: str) -> CallerAccounts | Refusal:
        number = normalise_phone_number(caller_number)
        if isinstance(number, Refusal):
            return number
        with self.sessions() as session:
            db = session.connection()
            accounts = [_account(row) for row in db.execute(_ACCOUNTS_BY_PHONE, {"number": number})]
            total = len(accounts)
            if total > MAX_LISTED:
                total = db.execute(_COUNT_BY_PHONE, {"number": number}).scalar_one()
        if not accounts:
            return Refusal(Problem.UNKNOWN_CALLER, "no customer has registered this number")
        return CallerAccounts(number, tuple(accounts[:MAX_LISTED]), total)

    @_answers
    def account_by_number(self, digits: str) -> AccountSummary | Refusal:
        number = normalise_account_number(digits)
        if isinstance(number, Refusal):
            return number
        with self.sessions() as session:
            return _account_by_number(session.connection(), number)

    @_answers
    def verify_caller(self, account_number: str, secret: str) -> bool | Refusal:
        """True if `secret` is the account holder's IVR secret (服务密码); False if it is not, or none is set."""
        number = normalise_account_number(account_number)
        if isinstance(number, Refusal):
            return number
        with self.sessions() as session:
            found = session.connection().execute(_SECRET_BY_NUMBER, {"number": number}).one_or_none()
        if found is None:
            return Refusal(Problem.UNKNOWN_ACCOUNT, "no account has this number")
        return verify_secret(secret, found.verification_hash)

    # --- bills ---

    @_answers
    def bill_summary(self, account_number: str) -> BillSummary | NoBillsYet | Refusal:
        number = normalise_account_number(account_number)
        if isinstance(number, Refusal):
            return number
        with self.sessions() as session:
            db = session.connection()
            found = db.execute(_BALANCE_BY_NUMBER, {"number": number}).one_or_none()
            if found is None:
                return Refusal(Problem.UNKNOWN_ACCOUNT, "no account has this number")
            return self._bill_summaries(db, [_Balance(*found)], _OF_ACCOUNT, {"account": found.id})[0]

    # --- outages ---

    @_answers
    def outages(self, account_number: str) -> AccountOutages | Refusal:
        """Outages that reach the account through the grid: one on its substation, its feeder, or its
        transformer area; happening now, or starting within UPCOMING."""
        number = normalise_account_number(account_number)
        if isinstance(number, Refusal):
            return number
        with self.sessions() as session:
            db = session.connection()
            account = _account_by_number(db, number)
            if isinstance(account, Refusal):
                return account
            current, upcoming = self._outages(db, [account], _OF_ACCOUNT, {"account": account.account_id})
        return AccountOutages(number, current, upcoming)

    # --- the customer 360 ---

    @_answers
    def customer_360(self, customer_id: int) -> Customer360 | Refusal:
        with self.sessions() as session:
            db = session.connection()
            customer = db.execute(_CUSTOMER, {"customer": customer_id}).one_or_none()
            if customer is None:
                return Refusal(Problem.UNKNOWN_CUSTOMER, f"no customer {customer_id}")
            scope = {"customer": customer_id}
            phones = tuple(db.execute(_PHONES_OF_CUSTOMER, scope).scalars())
            rows = db.execute(_ACCOUNTS_OF_CUSTOMER, scope).all()
            accounts = [_account(row) for row in rows]
            balances = [_Balance(r.id, r.number, r.prepaid, r.balance_fen) for r in rows]
            bills = self._bill_summaries(db, balances, _OF_CUSTOMER, scope)
            current, upcoming = self._outages(db, accounts, _OF_CUSTOMER, scope)
            contacts = tuple(ContactLine(*row) for row in db.execute(_RECENT_CONTACTS, scope))
            orders = tuple(WorkOrderLine(*row) for row in db.execute(_OPEN_WORK_ORDERS, scope))
        return Customer360(
            customer_id=customer.id,
            name=customer.name,
            customer_class=customer.customer_class,
            tier=customer.tier,
            account_manager=f"{customer.manager_code} {customer.manager_name}" if customer.manager_code else None,
            phones=phones,
            accounts=tuple(accounts),
            bills=tuple(bills),
            current_outages=current,
            upcoming_outages=upcoming,
            recent_contacts=contacts,
            open_work_orders=orders,
            last_tier_change=(
                f"{customer.changed_at:%Y-%m-%d}: {customer.old_tier} -> {customer.new_tier} ({customer.reason})"
                if customer.changed_at
                else None
            ),
        )

    # --- what the services share ---

    def _bill_summaries(
        self, db: Connection, accounts: Sequence[_Balance], scope: _Scoped, params: dict[str, int]
    ) -> list[BillSummary | NoBillsYet]:
        """One summary per account, with two queries whatever their number."""
        today = periods.local_day(self.clock())
        unpaid: dict[int, list[tuple[int, date]]] = {a.id: [] for a in accounts}
        latest: dict[int, BillLine] = {}
        for row in db.execute(scope.unpaid_and_latest_bills, params):
            if row.paid_on is None:
                unpaid[row.account_id].append((row.amount_fen, row.due_date))
            if row.latest:
                latest[row.account_id] = BillLine(row.period, row.kwh, row.amount_fen, row.due_date, row.paid_on)
        payments = {
            row.account_id: PaymentLine(row.paid_at, row.amount_fen, row.channel)
            for row in db.execute(scope.last_payments, params)
        }
        summaries: list[BillSummary | NoBillsYet] = []
        for a in accounts:
            bill = latest.get(a.id)
            if bill is None:
                summaries.append(NoBillsYet(a.number, a.prepaid, a.balance_fen, payments.get(a.id)))
                continue
            owed = unpaid[a.id]
            overdue = [amount for amount, due in owed if due < today]
            summaries.append(
                BillSummary(
                    account_number=a.number,
                    amount_due_fen=sum(amount for amount, _ in owed),
                    due_date=min((due for _, due in owed), default=None),
                    arrears_fen=sum(overdue),
                    overdue_bills=len(overdue),
                    latest_bill=bill,
                    last_payment=payments.get(a.id),
                    prepaid=a.prepaid,
                    balance_fen=a.balance_fen,
                )
            )
        return summaries

    def _outages(
        self, db: Connection, accounts: Sequence[AccountSummary], scope: _Scoped, params: dict[str, int]
    ) -> tuple[tuple[OutageNotice, ...], tuple[OutageNotice, ...]]:
        """(current, upcoming) outages reaching `accounts`, the accounts that `scope` and `params` select."""
        if not accounts:
            return (), ()
        now = self.clock()
        areas = {a.transformer_area_id: a.transformer_area for a in accounts}
        rows = db.execute(scope.outages, {**params, "now": now, "until": now + UPCOMING}).all()
        # Which of these accounts' transformer areas each area-scoped outage covers, to name them.
        covered: dict[int, list[str]] = {}
        area_scoped = [r.id for r in rows if r.scope is OutageScope.TRANSFORMER_AREAS]
        if area_scoped:
            for outage_id, area_id in db.execute(_OUTAGE_AREAS, {"outages": area_scoped}):
                if area_id in areas:
                    covered.setdefault(outage_id, []).append(areas[area_id])
        current: list[OutageNotice] = []
        upcoming: list[OutageNotice] = []
        for row in rows:
            where = row.substation or row.feeder or "、".join(sorted(covered.get(row.id, [])))
            notice = OutageNotice(
                row.id, row.kind, row.scope, where, row.reason, row.starts_at, row.expected_restoration_at
            )
            (current if row.starts_at <= now else upcoming).append(notice)
        return tuple(current), tuple(upcoming)


def _account_by_number(db: Connection, number: str) -> AccountSummary | Refusal:
    row = db.execute(_ACCOUNT_BY_NUMBER, {"number": number}).one_or_none()
    if row is None:
        return Refusal(Problem.UNKNOWN_ACCOUNT, "no account has this number")
    return _account(row)


@dataclass(frozen=True)
class _Balance:
    id: int
    number: str
    prepaid: bool
    balance_fen: int


def _account(row: Row[*tuple[Any, ...]]) -> AccountSummary:
    return AccountSummary(
        number=row.number,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        customer_class=row.customer_class,
        tier=row.tier,
        prepaid=row.prepaid,
        address=row.address,
        own_meter=not row.shared,
        transformer_area=row.transformer_area,
        feeder=row.feeder,
        substation=row.substation,
        county_company=row.county_company,
        account_id=row.id,
        transformer_area_id=row.transformer_area_id,
        feeder_id=row.feeder_id,
        substation_id=row.substation_id,
    )


# --- the statements, built once ---


_ACCOUNT_COLUMNS = (
    select(
        Account.id,
        Account.number,
        Account.prepaid,
        Account.balance_fen,
        Customer.id.label("customer_id"),
        Customer.name.label("customer_name"),
        Customer.customer_class,
        Customer.tier,
        SupplyPoint.address,
        Meter.shared,
        TransformerArea.id.label("transformer_area_id"),
        TransformerArea.name.label("transformer_area"),
        Feeder.id.label("feeder_id"),
        Feeder.name.label("feeder"),
        Substation.id.label("substation_id"),
        Substation.name.label("substation"),
        CountyCompany.name.label("county_company"),
    )
    .select_from(Account)
    .join(Customer, Customer.id == Account.customer_id)
    .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
    .join(Meter, Meter.id == SupplyPoint.meter_id)
    .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
    .join(Feeder, Feeder.id == TransformerArea.feeder_id)
    .join(Substation, Substation.id == Feeder.substation_id)
    .join(CountyCompany, CountyCompany.id == Substation.county_company_id)
)
_ACCOUNT_BY_NUMBER = _ACCOUNT_COLUMNS.where(Account.number == bindparam("number"))
_ACCOUNTS_BY_PHONE = (
    _ACCOUNT_COLUMNS.join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
    .where(CustomerPhone.number == bindparam("number"))
    .order_by(Account.number)
    .limit(MAX_LISTED + 1)
)
_COUNT_BY_PHONE = (
    select(func.count(Account.id))
    .join(CustomerPhone, CustomerPhone.customer_id == Account.customer_id)
    .where(CustomerPhone.number == bindparam("number"))
)
_ACCOUNTS_OF_CUSTOMER = _ACCOUNT_COLUMNS.where(Account.customer_id == bindparam("customer")).order_by(Account.number)
_SECRET_BY_NUMBER = (
    select(Customer.verification_hash)
    .join(Account, Account.customer_id == Customer.id)
    .where(Account.number == bindparam("number"))
)
_BALANCE_BY_NUMBER = select(Account.id, Account.number, Account.prepaid, Account.balance_fen).where(
    Account.number == bindparam("number")
)


@dataclass(frozen=True)
class _Scoped:
    """The statements that read several accounts at once: one account's (bind "account": its id), or all of a
    customer's (bind "customer"). The accounts are chosen inside the SQL rather than passed as a list, because
    SQLAlchemy renders an expanding IN list anew on every call, which costs more than SQLite's answer."""

    unpaid_and_latest_bills: Select[*tuple[Any, ...]]
    last_payments: Select[*tuple[Any, ...]]
    outages: Select[*tuple[Any, ...]]


def _scoped(accounts: ColumnElement[bool]) -> _Scoped:
    latest_period = (
        select(func.max(Bill.period)).where(Bill.account_id == Account.id).correlate(Account).scalar_subquery()
    )
    last_paid_at = (
        select(func.max(Payment.paid_at)).where(Payment.account_id == Account.id).correlate(Account).scalar_subquery()
    )
    areas = (
        select(SupplyPoint.transformer_area_id).join(Account, Account.supply_point_id == SupplyPoint.id).where(accounts)
    )
    feeders = select(TransformerArea.feeder_id).where(TransformerArea.id.in_(areas))
    substations = select(Feeder.substation_id).where(Feeder.id.in_(feeders))
    return _Scoped(
        # The unpaid bills and each account's latest bill (paid or not), in one query.
        unpaid_and_latest_bills=(
            select(
                Bill.account_id,
                Bill.period,
                Bill.kwh,
                Bill.amount_fen,
                Bill.due_date,
                Bill.paid_on,
                (Bill.period == latest_period).label("latest"),
            )
            .join(Account, Account.id == Bill.account_id)
            .where(accounts, or_(Bill.paid_on.is_(None), Bill.period == latest_period))
        ),
        last_payments=(
            select(Payment.account_id, Payment.paid_at, Payment.amount_fen, Payment.channel)
            .join(Account, Account.id == Payment.account_id)
            .where(accounts, Payment.paid_at == last_paid_at)
            # Two payments at the same moment: the later row wins in the dictionary the rows go into.
            .order_by(Payment.id)
        ),
        outages=(
            select(
                Outage.id,
                Outage.kind,
                Outage.scope,
                Outage.reason,
                Outage.starts_at,
                Outage.expected_restoration_at,
                Substation.name.label("substation"),
                Feeder.name.label("feeder"),
            )
            .outerjoin(Substation, Substation.id == Outage.substation_id)
            .outerjoin(Feeder, Feeder.id == Outage.feeder_id)
            .where(
                # What is looked for is the accounts' own substations, feeders and areas.
                grid.reaching(substations, feeders, areas),
                grid.in_effect(bindparam("now"), bindparam("until")),
            )
            .order_by(Outage.starts_at, Outage.id)
        ),
    )


_OF_ACCOUNT = _scoped(Account.id == bindparam("account"))
_OF_CUSTOMER = _scoped(Account.customer_id == bindparam("customer"))
_OUTAGE_AREAS = select(OutageArea.outage_id, OutageArea.transformer_area_id).where(
    OutageArea.outage_id.in_(bindparam("outages", expanding=True))
)
_LAST_CHANGE = (
    select(func.max(TierChange.id)).where(TierChange.customer_id == Customer.id).correlate(Customer).scalar_subquery()
)
_CUSTOMER = (
    select(
        Customer.id,
        Customer.name,
        Customer.customer_class,
        Customer.tier,
        Agent.code.label("manager_code"),
        Agent.name.label("manager_name"),
        TierChange.old_tier,
        TierChange.new_tier,
        TierChange.reason,
        TierChange.changed_at,
    )
    .outerjoin(Agent, Agent.id == Customer.account_manager_id)
    .outerjoin(TierChange, TierChange.id == _LAST_CHANGE)
    .where(Customer.id == bindparam("customer"))
)
_PHONES_OF_CUSTOMER = (
    select(CustomerPhone.number).where(CustomerPhone.customer_id == bindparam("customer")).order_by(CustomerPhone.id)
)
_RECENT_CONTACTS = (
    select(Contact.started_at, Contact.caller_number, Contact.outcome, Contact.disposition, SatisfactionResult.score)
    .outerjoin(SatisfactionResult, SatisfactionResult.contact_id == Contact.id)
    .where(
        or_(
            Contact.account_id.in_(select(Account.id).where(Account.customer_id == bindparam("customer"))),
            Contact.caller_number.in_(
                select(CustomerPhone.number).where(CustomerPhone.customer_id == bindparam("customer"))
            ),
        )
    )
    .order_by(Contact.started_at.desc())
    .limit(RECENT_CONTACTS)
)
_OPEN_WORK_ORDERS = (
    select(WorkOrder.number, WorkOrder.kind, WorkOrder.summary, WorkOrder.created_at)
    .where(WorkOrder.customer_id == bindparam("customer"), WorkOrder.status == "open")
    .order_by(WorkOrder.created_at.desc())
)
