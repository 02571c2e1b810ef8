"""What the IVR needs to know about customers, accounts, bills and outages, as small records; `CustomerData` is
the narrow face of the crm services that the flows call, so that a flow reads as its business rule."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm import customer_records
from crm.customer_records import Problem, Refusal
from crm.models import Contact, Customer, SatisfactionResult
from crm.services import CustomerService
from crm.tiers import Tier
from hotline import periods
from ivr.call import Identity
from work_orders.policy import load_policy
from work_orders.records import NewWorkOrder
from work_orders.rules import Actor, Kind, Origin
from work_orders.service import WorkOrderService

# Who the work-order history names for what the IVR does.
IVR = Actor.system("IVR")


@dataclass(frozen=True)
class BillSummary:
    """An account's money as the IVR reads it out; amounts in fen."""

    prepaid: bool
    balance_fen: int
    amount_due_fen: int
    due_date: date | None
    last_payment_on: date | None
    last_payment_fen: int
    arrears_fen: int
    has_bills: bool


@dataclass(frozen=True)
class OutageNotice:
    """An outage that reaches the caller's supply point: its cause (an OutageKind value), when it starts and when
    power is expected back; `outage_id` to attach a repair call to it."""

    kind: str
    starts_at: datetime
    expected_restoration_at: datetime | None
    outage_id: int | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now


class CustomerUnavailable(Exception):  # noqa: N818 (a state of the database, not a fault of the caller)
    """The customer data cannot be read (the database is not answering): the caller goes to a person."""


class CustomerData(Protocol):
    def accounts_for_caller(self, caller_number: str) -> list[Identity]:
        """The accounts of every customer who registered this phone number (verified: the number is theirs);
        empty for an unknown or withheld number, and for more accounts than a menu can offer."""
        ...

    def account(self, number: str, caller_number: str) -> Identity | None:
        """The account with this (check-digit valid) number; verified if the caller number is the customer's."""
        ...

    def has_password(self, customer_id: int) -> bool: ...

    def check_password(self, account_number: str, password: str) -> bool: ...

    def bill_summary(self, account_number: str) -> BillSummary: ...

    def outages(self, account_number: str) -> list[OutageNotice]:
        """Outages reaching the account's supply point now or within days, soonest first."""
        ...

    def own_meter(self, account_number: str) -> bool:
        """True when the account's household has its own meter (一户一表), False when the meter is shared."""
        ...

    def open_repair_order(self, identity: Identity, contact_id: int, summary: str, *, neighbours_out: bool) -> str:
        """Create a repair work order (抢修工单) and return its number (its digits are read back to the caller).
        `neighbours_out`: the caller said the neighbours are out too; such reports may reveal an outage."""
        ...

    def report_on_outage(self, outage_id: int, identity: Identity, contact_id: int) -> None:
        """Attach a repair call to the known outage it was told of, instead of opening an order: the caller is
        among those told when power is back."""
        ...

    def note_contact(self, contact_id: int, *, account_id: int | None = None, language: str | None = None) -> None:
        """Note on the contact what the IVR learned: the account the caller was identified with, the language."""
        ...

    def record_satisfaction(self, contact_id: int, score: int) -> None: ...

    def contact_id(self, uniqueid: str) -> int | None:
        """The contact of the call with this uniqueid, if the IVR opened one."""
        ...


class CrmCustomers:
    """CustomerData over crm: the read services of crm.services, repair orders and outage reports through
    work_orders.service, and the few writes the IVR makes itself (the contact's account and language, a
    satisfaction score) until crm offers them as services. `work_orders` defaults to the service with the
    policy file in the repository (work_orders/policy.toml)."""

    def __init__(self, sessions: sessionmaker[Session], work_orders: WorkOrderService | None = None) -> None:
        self.sessions = sessions
        self.service = CustomerService(sessions)
        self.work_orders = work_orders or WorkOrderService(sessions, load_policy())

    # -- reads, through crm.services ----------------------------------------------------------------------------

    def _identity(self, account: customer_records.AccountSummary, verified: bool) -> Identity:
        manager = ""
        if account.tier is Tier.KEY_ACCOUNT:
            # The dedicated account manager (大客户经理) travels to the ACD as the agent's staff number.
            whole = self.service.customer_360(account.customer_id)
            _available(whole)
            if not isinstance(whole, Refusal) and whole.account_manager:
                manager = whole.account_manager.split()[0]
        return Identity(account.account_id, account.number, account.customer_id, account.tier.value, manager, verified)

    def accounts_for_caller(self, caller_number: str) -> list[Identity]:
        found = self.service.accounts_by_caller(caller_number)
        _available(found)
        if isinstance(found, Refusal) or found.total > len(found.accounts):
            return []
        return [self._identity(account, True) for account in found.accounts]

    def account(self, number: str, caller_number: str) -> Identity | None:
        found = self.service.account_by_number(number)
        _available(found)
        if isinstance(found, Refusal):
            return None
        callers = self.service.accounts_by_caller(caller_number) if caller_number else None
        _available(callers)
        registered = isinstance(callers, customer_records.CallerAccounts) and any(
            a.customer_id == found.customer_id for a in callers.accounts
        )
        return self._identity(found, registered)

    def has_password(self, customer_id: int) -> bool:
        try:
            with self.sessions() as session:
                stored = session.scalar(select(Customer.verification_hash).where(Customer.id == customer_id))
        except SQLAlchemyError as exc:
            raise CustomerUnavailable(str(exc)) from exc
        return stored is not None

    def check_password(self, account_number: str, password: str) -> bool:
        verified = self.service.verify_caller(account_number, password)
        _available(verified)
        return verified is True

    def bill_summary(self, account_number: str) -> BillSummary:
        found = self.service.bill_summary(account_number)
        _available(found)
        if isinstance(found, Refusal):
            raise CustomerUnavailable(found.detail)
        payment = found.last_payment
        paid_on = periods.local_day(payment.paid_at) if payment else None
        paid_fen = payment.amount_fen if payment else 0
        if isinstance(found, customer_records.NoBillsYet):
            return BillSummary(found.prepaid, found.balance_fen, 0, None, paid_on, paid_fen, 0, False)
        today = periods.local_day(periods.now_utc())
        latest = found.latest_bill
        # The date said is the current bill's: an overdue one is said as arrears, not as a date to pay by.
        current_due = latest.due_date if latest.paid_on is None and latest.due_date >= today else None
        return BillSummary(
            found.prepaid,
            found.balance_fen,
            found.amount_due_fen,
            current_due,
            paid_on,
            paid_fen,
            found.arrears_fen,
            True,
        )

    def outages(self, account_number: str) -> list[OutageNotice]:
        found = self.service.outages(account_number)
        _available(found)
        if isinstance(found, Refusal):
            raise CustomerUnavailable(found.detail)
        return [
            OutageNotice(o.kind.value, o.starts_at, o.expected_restoration_at, o.outage_id)
            for o in (*found.current, *found.upcoming)
        ]

    def own_meter(self, account_number: str) -> bool:
        found = self.service.account_by_number(account_number)
        _available(found)
        if isinstance(found, Refusal):
            raise CustomerUnavailable(found.detail)
        return found.own_meter

    # -- the IVR's writes --------------------------------------------------------------------------------------

    def open_repair_order(self, identity: Identity, contact_id: int, summary: str, *, neighbours_out: bool) -> str:
        order = NewWorkOrder(
            Kind.REPAIR,
            summary,
            Origin.IVR,
            account_number=identity.account_number,
            contact_id=contact_id,
            neighbours_out=neighbours_out,
        )
        try:
            return self.work_orders.create(order, IVR).number
        except SQLAlchemyError as exc:
            raise CustomerUnavailable(str(exc)) from exc

    def report_on_outage(self, outage_id: int, identity: Identity, contact_id: int) -> None:
        try:
            self.work_orders.attach_call(outage_id, IVR, account_number=identity.account_number, contact_id=contact_id)
        except SQLAlchemyError as exc:
            raise CustomerUnavailable(str(exc)) from exc

    def note_contact(self, contact_id: int, *, account_id: int | None = None, language: str | None = None) -> None:
        values: dict[str, object] = {}
        if account_id is not None:
            values["account_id"] = account_id
        if language is not None:
            values["language"] = language
        if values:
            with self._writing() as session:
                session.execute(update(Contact).where(Contact.id == contact_id).values(**values))

    def record_satisfaction(self, contact_id: int, score: int) -> None:
        with self._writing() as session:
            result = session.scalar(select(SatisfactionResult).where(SatisfactionResult.contact_id == contact_id))
            if result is None:
                session.add(SatisfactionResult(contact_id=contact_id, score=score, recorded_at=periods.now_utc()))
            else:
                result.score = score
                result.recorded_at = periods.now_utc()

    def contact_id(self, uniqueid: str) -> int | None:
        try:
            with self.sessions() as session:
                return session.scalar(select(Contact.id).where(Contact.uniqueid == uniqueid))
        except SQLAlchemyError as exc:
            raise CustomerUnavailable(str(exc)) from exc

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Session]:
        try:
            with self.sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise CustomerUnavailable(str(exc)) from exc


def _available(answer: object) -> None:
    """A service's answer is usable unless the database did not answer."""
    if isinstance(answer, Refusal) and answer.problem is Problem.UNAVAILABLE:
        raise CustomerUnavailable(answer.detail)
