"""What the customer service answers: accounts, bills, outages and the customer's whole picture as records, a
Refusal for bad input or a failing database, and the checks of a typed account or phone number. Pure: no
database here (crm/services.py reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from crm import account_numbers
from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind, OutageScope

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
