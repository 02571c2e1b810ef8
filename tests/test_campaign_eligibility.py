"""Who a campaign calls, and when, without a database (campaigns/eligibility.py): which outages a notice may be made
for, tier routing, how each selected customer is told (opt-outs and key accounts first), the numbers a restoration
is given and the number each customer is called on, the bills a reminder and an arrears notice choose and what each
customer hears, and which kinds may call at a moment."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from campaigns.eligibility import (
    BILL_KINDS,
    BillNotice,
    Listing,
    Route,
    UnpaidBill,
    bill_notices,
    bills_due,
    kinds_callable,
    listing_for,
    numbers_given,
    numbers_to_call,
    outage_notice_refusal,
    route_for,
)
from campaigns.hours import AllowedHours, Window
from campaigns.messages import BillMessage
from campaigns.rules import CampaignKind
from crm.tiers import Tier
from crm.vocabulary import OutageKind
from hotline.periods import LOCAL

K = CampaignKind
KEYS = frozenset({Tier.KEY_ACCOUNT})
TODAY = date(2026, 3, 2)


# --- which outages a notice may be made for ---


@pytest.mark.parametrize("outage_kind", [k for k in OutageKind if k is not OutageKind.FAULT])
def test_planned_work_may_be_announced_until_it_is_restored(outage_kind: OutageKind) -> None:
    assert outage_notice_refusal(K.PLANNED_OUTAGE, outage_kind, restored=False) is None
    assert outage_notice_refusal(K.PLANNED_OUTAGE, outage_kind, restored=True) == "is over already"


def test_a_fault_has_no_planned_window_to_announce() -> None:
    for restored in (False, True):
        refusal = outage_notice_refusal(K.PLANNED_OUTAGE, OutageKind.FAULT, restored)
        assert refusal == "is a fault: there is no planned window to announce"


@pytest.mark.parametrize("outage_kind", list(OutageKind))
def test_a_restoration_notice_only_once_the_outage_is_restored(outage_kind: OutageKind) -> None:
    assert outage_notice_refusal(K.RESTORATION, outage_kind, restored=True) is None
    assert outage_notice_refusal(K.RESTORATION, outage_kind, restored=False) == "is not restored yet"


@pytest.mark.parametrize("kind", sorted(BILL_KINDS))
def test_bills_are_no_outages_notice(kind: CampaignKind) -> None:
    assert outage_notice_refusal(kind, OutageKind.PLANNED_MAINTENANCE, restored=False) == f"cannot have a {kind} notice"


# --- how each selected customer is told ---


def test_key_accounts_go_to_their_manager_the_others_to_the_robot() -> None:
    keys = frozenset({Tier.KEY_ACCOUNT})
    assert route_for(Tier.KEY_ACCOUNT, keys) is Route.MANAGER
    assert route_for(Tier.STANDARD, keys) is Route.ROBOT
    assert route_for(Tier.ATTENTION, keys) is Route.ROBOT
    assert route_for(Tier.KEY_ACCOUNT, frozenset()) is Route.ROBOT


@pytest.mark.parametrize(
    ("tier", "opted_out", "has_phone", "listing"),
    [
        (Tier.STANDARD, False, True, Listing.CALL),
        (Tier.ATTENTION, False, True, Listing.CALL),
        (Tier.STANDARD, False, False, Listing.WITHOUT_PHONE),
        (Tier.STANDARD, True, True, Listing.OPTED_OUT),
        (Tier.STANDARD, True, False, Listing.OPTED_OUT),  # counted as opted out, not as without a phone
        (Tier.KEY_ACCOUNT, False, True, Listing.MANAGER_TASK),
        (Tier.KEY_ACCOUNT, False, False, Listing.MANAGER_TASK),  # the manager knows how to reach them
        (Tier.KEY_ACCOUNT, True, True, Listing.OPTED_OUT),  # an opt-out holds for their manager too
    ],
)
def test_who_is_called_who_gets_a_managers_task_and_who_is_left_out(
    tier: Tier, opted_out: bool, has_phone: bool, listing: Listing
) -> None:
    assert listing_for(tier, opted_out, has_phone, KEYS) is listing


def test_a_tier_the_policy_does_not_name_is_called_by_the_robot() -> None:
    assert listing_for(Tier.KEY_ACCOUNT, False, True, frozenset()) is Listing.CALL
    assert listing_for(Tier.ATTENTION, False, True, frozenset({Tier.ATTENTION})) is Listing.MANAGER_TASK


def test_each_number_given_is_called_once_for_the_first_who_left_it() -> None:
    given = numbers_given(
        [
            ("13912345678", 7),
            ("13912345678", 7),  # reported twice
            ("13700001111", None),  # a caller who is no known customer
            ("13912345678", 8),  # the same number for another customer: already called for 7
            ("", 9),  # a report without a number: the customer's own phone
            ("13800000002", 7),
            ("13700001111", None),
        ]
    )
    assert given == {7: ["13912345678", "13800000002"], None: ["13700001111"], 8: [], 9: []}
    assert list(given) == [7, None, 8, 9]  # in the order given
    assert numbers_given([]) == {}


def test_a_customer_is_called_on_the_number_given_else_their_own() -> None:
    assert numbers_to_call(["13912345678", "13800000002"], "13500000000") == ["13912345678", "13800000002"]
    assert numbers_to_call([], "13500000000") == ["13500000000"]
    assert numbers_to_call(None, "13500000000") == ["13500000000"]
    assert numbers_to_call(None, None) == [] == numbers_to_call([], "")


# --- bills ---


def test_a_reminder_chooses_bills_falling_due_from_today_and_arrears_those_past_due() -> None:
    assert bills_due(K.BILL_REMINDER, TODAY, 3) == (TODAY, date(2026, 3, 5))
    assert bills_due(K.BILL_REMINDER, TODAY, 0) == (TODAY, TODAY)
    assert bills_due(K.ARREARS_NOTICE, TODAY, 3) == (None, date(2026, 3, 1))  # the window is the reminder's only
    assert {K.BILL_REMINDER, K.ARREARS_NOTICE} == BILL_KINDS
    for kind in (K.PLANNED_OUTAGE, K.RESTORATION):
        with pytest.raises(ValueError, match="not chosen by bills"):
            bills_due(kind, TODAY, 3)


def bill(customer: int, account: int, amount: int, due: date) -> UnpaidBill:
    return UnpaidBill(customer, account, f"41000000{account:02d}", amount, due)


def test_one_notice_per_customer_for_the_total_naming_the_earliest_due() -> None:
    notices = bill_notices(
        [
            bill(5, 51, 100, date(2026, 3, 5)),
            bill(5, 52, 12345, date(2026, 3, 4)),  # the earliest due: its account is named
            bill(3, 31, 900, date(2026, 3, 3)),
            bill(5, 51, 200, date(2026, 3, 4)),  # due the same day as 52's: 51's number comes first
        ],
        min_amount_fen=1,
    )
    assert notices == [
        BillNotice(5, 51, BillMessage(12645, date(2026, 3, 4), "4100000051")),
        BillNotice(3, 31, BillMessage(900, date(2026, 3, 3), "4100000031")),
    ]


def test_customers_owing_less_than_the_amount_get_no_notice() -> None:
    bills = [bill(1, 11, 6000, date(2026, 2, 1)), bill(1, 12, 4000, date(2026, 1, 1)), bill(2, 21, 9999, TODAY)]
    assert [n.customer_id for n in bill_notices(bills, 10000)] == [1]  # the total counts, not each bill
    assert [n.customer_id for n in bill_notices(bills, 10001)] == []
    assert bill_notices([], 1) == []


# --- when ---


def test_only_kinds_within_their_hours_may_call() -> None:
    day = AllowedHours((Window.parse("08:00-12:00"), Window.parse("13:30-21:00")))
    evening = AllowedHours((Window.parse("07:00-22:00"),))
    hours = {K.PLANNED_OUTAGE: day, K.RESTORATION: evening, K.BILL_REMINDER: day}
    at = datetime(2026, 3, 2, 10, tzinfo=LOCAL)
    assert kinds_callable(hours, at) == [K.PLANNED_OUTAGE, K.RESTORATION, K.BILL_REMINDER]
    assert kinds_callable(hours, at.replace(hour=12, minute=30)) == [K.RESTORATION]
    assert kinds_callable(hours, at.replace(hour=23)) == []
