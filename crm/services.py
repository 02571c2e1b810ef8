"""Read services over the customer data, for the IVR and the agents' screen-pop. Every answer is a typed result;
bad input and a failing database come back as a Refusal, never as an exception."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm import customer_queries as q
from crm.customer_records import (
    MAX_LISTED,
    UPCOMING,
    AccountOutages,
    AccountSummary,
    BillLine,
    BillSummary,
    CallerAccounts,
    ContactLine,
    Customer360,
    NoBillsYet,
    OutageNotice,
    PaymentLine,
    Problem,
    Refusal,
    WorkOrderLine,
    normalise_account_number,
    normalise_phone_number,
)
from crm.verification import verify_secret
from crm.vocabulary import OutageScope
from hotline import periods

log = logging.getLogger(__name__)

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
            accounts = [_account(row) for row in db.execute(q.ACCOUNTS_BY_PHONE, {"number": number})]
            total = len(accounts)
            if total > MAX_LISTED:
                total = db.execute(q.COUNT_BY_PHONE, {"number": number}).scalar_one()
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
            found = session.connection().execute(q.SECRET_BY_NUMBER, {"number": number}).one_or_none()
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
            found = db.execute(q.BALANCE_BY_NUMBER, {"number": number}).one_or_none()
            if found is None:
                return Refusal(Problem.UNKNOWN_ACCOUNT, "no account has this number")
            return self._bill_summaries(db, [_Balance(*found)], q.OF_ACCOUNT, {"account": found.id})[0]

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
            current, upcoming = self._outages(db, [account], q.OF_ACCOUNT, {"account": account.account_id})
        return AccountOutages(number, current, upcoming)

    # --- the customer 360 ---

    @_answers
    def customer_360(self, customer_id: int) -> Customer360 | Refusal:
        with self.sessions() as session:
            db = session.connection()
            customer = db.execute(q.CUSTOMER, {"customer": customer_id}).one_or_none()
            if customer is None:
                return Refusal(Problem.UNKNOWN_CUSTOMER, f"no customer {customer_id}")
            scope = {"customer": customer_id}
            phones = tuple(db.execute(q.PHONES_OF_CUSTOMER, scope).scalars())
            rows = db.execute(q.ACCOUNTS_OF_CUSTOMER, scope).all()
            accounts = [_account(row) for row in rows]
            balances = [_Balance(r.id, r.number, r.prepaid, r.balance_fen) for r in rows]
            bills = self._bill_summaries(db, balances, q.OF_CUSTOMER, scope)
            current, upcoming = self._outages(db, accounts, q.OF_CUSTOMER, scope)
            contacts = tuple(ContactLine(*row) for row in db.execute(q.CONTACTS_OF_CUSTOMER, scope))
            orders = tuple(WorkOrderLine(*row) for row in db.execute(q.OPEN_WORK_ORDERS, scope))
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
        self, db: Connection, accounts: Sequence[_Balance], scope: q.Scoped, params: dict[str, int]
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
        self, db: Connection, accounts: Sequence[AccountSummary], scope: q.Scoped, params: dict[str, int]
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
            for outage_id, area_id in db.execute(q.OUTAGE_AREAS, {"outages": area_scoped}):
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
    row = db.execute(q.ACCOUNT_BY_NUMBER, {"number": number}).one_or_none()
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
