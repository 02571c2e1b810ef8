"""Who a campaign calls, and when (外呼对象), as pure functions: which outages a notice may be made for; how each
customer a campaign selects is told (a robot call, a task for their account manager, or not at all) and on which
number; which unpaid bills make a bill reminder or an arrears notice, and what each customer hears of them; and which
kinds of campaign may call at a given moment. The campaign service applies them to what it reads from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from campaigns.hours import AllowedHours
from campaigns.messages import BillMessage
from campaigns.rules import CampaignKind
from crm.tiers import Tier
from crm.vocabulary import OutageKind

# --- which outages a notice may be made for ---


def outage_notice_refusal(notice: CampaignKind, outage_kind: OutageKind, restored: bool) -> str | None:
    """Why an outage may not have a notice of this kind (to follow "outage N"), or None if it may. A planned-outage
    notice (计划停电通知) announces planned work, not a fault, and only until a crew marks the power restored; a
    restoration notice (复电通知) only once they have. Bills are not an outage's notices."""
    if notice is CampaignKind.PLANNED_OUTAGE:
        if outage_kind is OutageKind.FAULT:
            return "is a fault: there is no planned window to announce"
        if restored:
            return "is over already"
        return None
    if notice is CampaignKind.RESTORATION:
        return None if restored else "is not restored yet"
    return f"cannot have a {notice} notice"


# --- how each selected customer is told ---


class Route(StrEnum):
    ROBOT = "robot"  # an automatic voice call
    MANAGER = "manager"  # a task on the account manager's list (大客户经理): a key account hears it from a person


def route_for(tier: Tier, manager_tiers: frozenset[Tier]) -> Route:
    """Key accounts (and any other tier the policy names) are told by their account manager, never by a robot;
    one without a manager still gets a task (unassigned), for the supervisors to give to someone."""
    return Route.MANAGER if tier in manager_tiers else Route.ROBOT


class Listing(StrEnum):
    """What becomes of a customer a campaign's selection found."""

    CALL = "call"  # a callee: the robot calls their number
    MANAGER_TASK = "manager_task"  # a task on their account manager's list
    OPTED_OUT = "opted_out"  # asked not to be called for this kind of notice: left out
    WITHOUT_PHONE = "without_phone"  # no number to call: left out


def listing_for(tier: Tier, opted_out: bool, has_phone: bool, manager_tiers: frozenset[Tier]) -> Listing:
    """An opt-out from the campaign's kind leaves the customer out, key accounts included (their manager gets no
    task either); a manager's tier gets a task, number or not (the manager knows how to reach them); anyone else is
    called if there is a number to call."""
    if opted_out:
        return Listing.OPTED_OUT
    if route_for(tier, manager_tiers) is Route.MANAGER:
        return Listing.MANAGER_TASK
    return Listing.CALL if has_phone else Listing.WITHOUT_PHONE


def numbers_given(phones: Iterable[tuple[str, int | None]]) -> dict[int | None, list[str]]:
    """The numbers a restoration notice is given, as (phone, customer id or None for a caller who is no known
    customer), per customer in the order given, each number once: the first to leave it has it. A customer given
    only empty or repeated numbers is kept, with none, so that their own phone is called (numbers_to_call)."""
    given: dict[int | None, list[str]] = {}
    seen: set[str] = set()
    for phone, customer_id in phones:
        numbers = given.setdefault(customer_id, [])
        if phone and phone not in seen:
            seen.add(phone)
            numbers.append(phone)
    return given


def numbers_to_call(given: Sequence[str] | None, own: str | None) -> list[str]:
    """The numbers a customer is told on, the first one called: those given for them (the number they left when
    they reported the outage), else their own registered phone; none if they have neither."""
    if given:
        return list(given)
    return [own] if own else []


# --- bills ---

BILL_KINDS = frozenset({CampaignKind.BILL_REMINDER, CampaignKind.ARREARS_NOTICE})


def bills_due(kind: CampaignKind, today: date, due_within_days: int) -> tuple[date | None, date]:
    """The due dates, first and last included (no first: any before the last), of the unpaid bills a bill campaign
    chooses on the utility's day `today`: a reminder (电费提醒), bills falling due from today to `due_within_days`
    days on; an arrears notice (欠费催缴), bills past their due date."""
    if kind is CampaignKind.BILL_REMINDER:
        return today, today + timedelta(days=due_within_days)
    if kind is CampaignKind.ARREARS_NOTICE:
        return None, today - timedelta(days=1)
    raise ValueError(f"a {kind} campaign is not chosen by bills")


@dataclass(frozen=True)
class UnpaidBill:
    """An unpaid bill a bill campaign's due dates chose, with its account."""

    customer_id: int
    account_id: int
    account_number: str
    amount_fen: int
    due_date: date


@dataclass(frozen=True)
class BillNotice:
    """One customer's bill notice: the account it names and what they hear."""

    customer_id: int
    account_id: int
    message: BillMessage


def bill_notices(bills: Iterable[UnpaidBill], min_amount_fen: int) -> list[BillNotice]:
    """One notice per customer for all their bills chosen, if they add up to at least `min_amount_fen`: the total,
    the earliest due date and its account (of accounts due the same day, the first by number). Customers in the
    order their bills come."""
    per_customer: dict[int, list[UnpaidBill]] = {}
    for bill in bills:
        per_customer.setdefault(bill.customer_id, []).append(bill)
    notices: list[BillNotice] = []
    for customer_id, theirs in per_customer.items():
        total = sum(bill.amount_fen for bill in theirs)
        if total < min_amount_fen:
            continue
        first = min(theirs, key=lambda bill: (bill.due_date, bill.account_number))
        notices.append(
            BillNotice(customer_id, first.account_id, BillMessage(total, first.due_date, first.account_number))
        )
    return notices


# --- when ---


def kinds_callable(hours: Mapping[CampaignKind, AllowedHours], moment: datetime) -> list[CampaignKind]:
    """The kinds of campaign whose allowed hours take in `moment`: only their callees may be claimed for a call."""
    return [kind for kind, allowed in hours.items() if allowed.allows(moment)]
