"""Building notice campaigns (外呼名单): a planned outage's customers, those to tell that power is back, bills
falling due or overdue. Each makes a draft campaign and its list in one transaction: who the selection found, each
told by a robot call or by their account manager's task, without those who opted out or have no number to call
(the rules are campaigns/eligibility.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.eligibility import (
    BILL_KINDS,
    Listing,
    UnpaidBill,
    bill_notices,
    bills_due,
    listing_for,
    numbers_given,
    numbers_to_call,
    outage_notice_refusal,
)
from campaigns.messages import Message, OutageMessage, RestorationMessage, check_message, message_to_json
from campaigns.queries import summary_of
from campaigns.records import CreatedCampaign, InvalidRequestError
from campaigns.rules import CLOSED_STATES, CalleeState, CampaignKind, CampaignPolicy, CampaignState
from crm import grid
from crm.campaign_models import CallOptOut, Campaign, CampaignCallee, ManagerTask
from crm.models import (
    Account,
    Bill,
    Contact,
    Customer,
    CustomerPhone,
    Feeder,
    Outage,
    OutageArea,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.tiers import Tier
from crm.vocabulary import OutageScope
from crm.work_order_models import OutageReport
from hotline import periods

DEFAULT_LANGUAGE = "zh"
MAX_NAME = 128


@dataclass(frozen=True)
class _Selected:
    """One customer a campaign's selection found, with their own message variables (bills)."""

    customer_id: int
    account_id: int | None
    variables: dict[str, Any] = field(default_factory=dict)


class CampaignLists:
    """The campaign service's building of campaigns (a part of CampaignService, which gives it its sessions,
    policy and clock)."""

    sessions: sessionmaker[Session]
    policy: CampaignPolicy
    clock: Callable[[], datetime]

    def create_for_outage(
        self, outage_id: int, created_by: str, *, name: str | None = None, trunk: str | None = None
    ) -> CreatedCampaign:
        """A planned-outage notice (计划停电通知) to every customer with an account under the outage: its substation's
        feeders, its feeder's transformer areas, or its listed areas (the grid's reach rule, crm/grid.py, read from
        the outage to places)."""
        now = self.clock()
        with self.sessions.begin() as session:
            outage = _outage_to_announce(session, outage_id, CampaignKind.PLANNED_OUTAGE)
            message = OutageMessage(
                _where(session, outage), outage.starts_at, outage.expected_restoration_at, outage.reason
            )
            rows = session.execute(
                select(Account.customer_id, func.min(Account.id))
                .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
                .where(SupplyPoint.transformer_area_id.in_(grid.areas_reached(outage)))
                .group_by(Account.customer_id)
            ).all()
            selected = [_Selected(customer, account) for customer, account in rows]
            return self._create(
                session,
                CampaignKind.PLANNED_OUTAGE,
                name or f"计划停电通知：{message.where}",
                trunk,
                created_by,
                now,
                message,
                selected,
                outage_id=outage_id,
            )

    def create_restoration(
        self,
        outage_id: int,
        created_by: str,
        *,
        phones: Sequence[tuple[str, int | None]] | None = None,
        name: str | None = None,
        trunk: str | None = None,
    ) -> CreatedCampaign:
        """A restoration notice (复电通知) to those who reported the outage: its outage_reports (the number they
        left, else the customer's first registered phone), or `phones`, the (phone, customer id) pairs of
        work_orders.records.Restoration's notify list (see create_from_restoration). The outage must be restored.
        Key accounts among them get a task for their manager."""
        now = self.clock()
        with self.sessions.begin() as session:
            outage = _outage_to_announce(session, outage_id, CampaignKind.RESTORATION)
            assert outage.restored_at is not None  # a restoration notice is for a restored outage only
            message = RestorationMessage(_where(session, outage), outage.restored_at)
            if phones is None:
                phones = self._reporters(session, outage_id)
            return self._create(
                session,
                CampaignKind.RESTORATION,
                name or f"复电通知：{message.where}",
                trunk,
                created_by,
                now,
                message,
                [],
                outage_id=outage_id,
                phones=phones,
            )

    def create_from_restoration(self, restoration: Any, created_by: str, **options: Any) -> CreatedCampaign:
        """From what WorkOrderService.restore_outage returned (a work_orders.records.Restoration): its notify
        list, one call per number."""
        pairs = [(notice.phone, notice.customer_id) for notice in restoration.notify]
        return self.create_restoration(restoration.outage_id, created_by, phones=pairs, **options)

    def create_for_bills(
        self,
        kind: CampaignKind,
        created_by: str,
        *,
        due_within_days: int = 3,
        min_amount_fen: int = 1,
        name: str | None = None,
        trunk: str | None = None,
    ) -> CreatedCampaign:
        """A bill reminder (电费提醒): customers with unpaid bills falling due from today to `due_within_days` days
        on, adding up to at least `min_amount_fen`; or an arrears notice (欠费催缴): unpaid bills past their due
        date adding up to at least `min_amount_fen`. Each callee hears their own amount, earliest due date and
        account."""
        if kind not in BILL_KINDS:
            raise InvalidRequestError(f"a {kind} campaign is not chosen by bills")
        if due_within_days < 0 or min_amount_fen < 1:
            raise InvalidRequestError(
                "bills are chosen by a due window of 0 days or more and an amount of 1 fen or more"
            )
        now = self.clock()
        first_due, last_due = bills_due(kind, periods.local_day(now), due_within_days)
        if kind is CampaignKind.BILL_REMINDER:
            label = f"电费提醒：{due_within_days}日内到期"
        else:
            label = f"欠费催缴：{min_amount_fen / 100:.2f}元以上"
        query = (
            select(Account.customer_id, Account.id, Account.number, Bill.amount_fen, Bill.due_date)
            .join(Account, Account.id == Bill.account_id)
            .where(Bill.paid_on.is_(None), Bill.due_date <= last_due)
            .order_by(Account.customer_id, Bill.due_date, Account.number)
        )
        if first_due is not None:
            query = query.where(Bill.due_date >= first_due)
        with self.sessions.begin() as session:
            unpaid = (UnpaidBill(*row) for row in session.execute(query))
            selected = [
                _Selected(notice.customer_id, notice.account_id, message_to_json(notice.message))
                for notice in bill_notices(unpaid, min_amount_fen)
            ]
            return self._create(session, kind, name or label, trunk, created_by, now, None, selected)

    def _create(
        self,
        session: Session,
        kind: CampaignKind,
        name: str,
        trunk: str | None,
        created_by: str,
        now: datetime,
        message: Message | None,
        selected: Sequence[_Selected],
        *,
        outage_id: int | None = None,
        phones: Sequence[tuple[str, int | None]] = (),
    ) -> CreatedCampaign:
        trunk = trunk or self.policy.default_trunk
        self.policy.pace(trunk)  # an unknown trunk is refused here, not when the dialler looks for it
        if message is not None:
            check_message(kind, message)
        name = name.strip()[:MAX_NAME]
        if not name or not created_by.strip():
            raise InvalidRequestError("a campaign has a name and says who made it")
        campaign = Campaign(
            kind=kind.value,
            state=CampaignState.DRAFT.value,
            name=name,
            trunk=trunk,
            outage_id=outage_id,
            variables=message_to_json(message) if message is not None else {},
            created_by=created_by.strip()[:64],
            created_at=now,
        )
        session.add(campaign)
        session.flush()
        # The numbers given (a restoration's reporters): one call per number, to the customer if known.
        given = numbers_given(phones)
        customers = [s.customer_id for s in selected] + [c for c in given if c is not None]
        info = _customers(session, customers, kind)
        by_customer = {s.customer_id: s for s in selected}
        callees: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        opted_out = without_phone = 0
        for customer_id in dict.fromkeys(customers):
            facts = info.get(customer_id)
            if facts is None:
                continue
            numbers = numbers_to_call(given.get(customer_id), facts.phone)
            listing = listing_for(facts.tier, facts.opted_out, bool(numbers), self.policy.manager_tiers)
            if listing is Listing.OPTED_OUT:
                opted_out += 1
                continue
            if listing is Listing.WITHOUT_PHONE:
                without_phone += 1
                continue
            chosen = by_customer.get(customer_id) or _Selected(customer_id, None)
            base = {
                "campaign_id": campaign.id,
                "customer_id": customer_id,
                "account_id": chosen.account_id,
                "variables": chosen.variables,
            }
            if listing is Listing.MANAGER_TASK:
                tasks.append(
                    base
                    | {
                        "agent_id": facts.manager_id,
                        "phone": numbers[0] if numbers else "",
                        "created_at": now,
                        "notes": "",
                    }
                )
                continue
            callees.append(base | {"phone": numbers[0], "language": facts.language})
        # Callers who reported without being known customers: a number only.
        for phone in given.get(None, []):
            callees.append(
                {
                    "campaign_id": campaign.id,
                    "customer_id": None,
                    "account_id": None,
                    "variables": {},
                    "phone": phone,
                    "language": DEFAULT_LANGUAGE,
                }
            )
        if callees:
            session.execute(
                insert(CampaignCallee),
                [c | {"state": CalleeState.PENDING.value, "attempts": 0, "next_attempt_at": None} for c in callees],
            )
        if tasks:
            session.execute(insert(ManagerTask), tasks)
        session.flush()
        return CreatedCampaign(summary_of(session, campaign), opted_out, without_phone)

    @staticmethod
    def _reporters(session: Session, outage_id: int) -> list[tuple[str, int | None]]:
        rows = session.execute(
            select(OutageReport.callback_number, OutageReport.customer_id)
            .where(OutageReport.outage_id == outage_id)
            .order_by(OutageReport.reported_at, OutageReport.id)
        ).all()
        # A report without a number: the customer's own phone is found with the others (_customers).
        return [(phone, customer) for phone, customer in rows if phone or customer is not None]


def _outage_to_announce(session: Session, outage_id: int, notice: CampaignKind) -> Outage:
    """The outage a notice of this kind is made for, if it may be (eligibility.outage_notice_refusal), and only one
    notice of a kind per outage at a time: a second press of "notify" must not call everyone twice."""
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise InvalidRequestError(f"there is no outage {outage_id}")
    refusal = outage_notice_refusal(notice, outage.kind, outage.restored_at is not None)
    if refusal is not None:
        raise InvalidRequestError(f"outage {outage_id} {refusal}")
    closed = [state.value for state in CLOSED_STATES]
    earlier = session.scalar(
        select(Campaign.id).where(
            Campaign.outage_id == outage_id, Campaign.kind == notice.value, Campaign.state.not_in(closed)
        )
    )
    if earlier is not None:
        raise InvalidRequestError(f"outage {outage_id} has a {notice.value} notice already: campaign {earlier}")
    return outage


@dataclass(frozen=True)
class _Facts:
    """What creating a campaign knows of one customer (_customers)."""

    tier: Tier
    manager_id: int | None
    phone: str | None
    language: str
    opted_out: bool


def _customers(session: Session, customer_ids: Iterable[int], kind: CampaignKind) -> dict[int, _Facts]:
    """What creating a campaign needs of each customer: tier and manager, the number to call (the first registered
    mobile, else the first of any kind), the language of their latest call to the hotline, and whether they opted
    out of this kind."""
    ids = sorted(set(customer_ids))
    facts: dict[int, _Facts] = {}
    # Chunks: SQLite limits the parameters of one statement, and a feeder may carry thousands of customers.
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        phones: dict[int, str] = {}
        for customer_id, number in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.number)
            .where(CustomerPhone.customer_id.in_(chunk))
            # Mobiles first, each kind in the order registered; the first seen wins.
            .order_by((CustomerPhone.kind == "mobile").desc(), CustomerPhone.id)
        ):
            phones.setdefault(customer_id, number)
        languages: dict[int, str] = {}
        for customer_id, language in session.execute(
            select(Account.customer_id, Contact.language)
            .join(Contact, Contact.account_id == Account.id)
            .where(Account.customer_id.in_(chunk))
            .order_by(Contact.started_at, Contact.id)
        ):
            languages[customer_id] = language  # the latest wins
        opted = set(
            session.scalars(
                select(CallOptOut.customer_id).where(CallOptOut.customer_id.in_(chunk), CallOptOut.kind == kind.value)
            )
        )
        for customer_id, tier, manager_id in session.execute(
            select(Customer.id, Customer.tier, Customer.account_manager_id).where(Customer.id.in_(chunk))
        ):
            facts[customer_id] = _Facts(
                Tier(tier),
                manager_id,
                phones.get(customer_id),
                languages.get(customer_id, DEFAULT_LANGUAGE),
                customer_id in opted,
            )
    return facts


def _where(session: Session, outage: Outage) -> str:
    if outage.scope is OutageScope.SUBSTATION:
        return session.scalar(select(Substation.name).where(Substation.id == outage.substation_id)) or ""
    if outage.scope is OutageScope.FEEDER:
        return session.scalar(select(Feeder.name).where(Feeder.id == outage.feeder_id)) or ""
    names = session.scalars(
        select(TransformerArea.name)
        .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
        .where(OutageArea.outage_id == outage.id)
    )
    return "、".join(sorted(names))
