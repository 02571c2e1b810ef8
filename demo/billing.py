"""The demo city's twelve months of bills and payments, over a million of them at full size: the hot loop of the
seed, so dates are computed once per month and written in the database driver's stored form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crm.models import Bill, Payment
from demo.catalogue import BILL_DUE_DAYS, LATE_CHANCE, PRICE, SEASON
from demo.city import AccountPlan, DemoCity
from hotline import periods

# Accounts whose bills and payments are written at a time: large batches, flat memory.
_CHUNK = 5000


@dataclass(frozen=True)
class BillingMonth:
    """A month billed, with every date one of its bills can need, also in stored form."""

    month: date
    period: str
    season: float
    issued: date
    due: date
    days: tuple[date, ...]  # issued + 0, 1, 2 ... days
    in_window: bool
    # The same dates as the database driver takes them (see BulkLoader.stored_form).
    stored_issued: object
    stored_due: object
    stored_days: tuple[object, ...]


def write_bills_and_payments(city: DemoCity) -> int:
    """Every account's bills and payments, streamed in chunks of accounts; each customer's behaviour is tallied
    for its tier on the way. Returns how many bills were written."""
    return _BillingHistory(city).write()


class _BillingHistory:
    def __init__(self, city: DemoCity) -> None:
        self.city = city
        self.months = _billing_months(city)
        self.moments: dict[tuple[date, int], object] = {}
        self.stored_paid_at = city.loader.stored_form(Payment, "paid_at")
        self.last_bill_id = 0
        self.last_payment_id = 0

    def write(self) -> int:
        city = self.city
        bill_count = 0
        for start in range(0, len(city.accounts), _CHUNK):
            plans = city.accounts[start : start + _CHUNK]
            bills: list[tuple[object, ...]] = []
            payments: list[tuple[object, ...]] = []
            for plan in plans:
                self._account_bills(plan, bills, payments)
            bill_count += city.loader.write(
                Bill,
                ("id", "account_id", "period", "kwh", "amount_fen", "issued_on", "due_date", "paid_on"),
                bills,
                stored=True,
            )
            city.loader.write(Payment, ("id", "account_id", "paid_at", "amount_fen", "channel"), payments, stored=True)
            city.bar.update(max(plans[-1].customer - city.bar.n, 0))
        return bill_count

    def _account_bills(
        self, plan: AccountPlan, bills: list[tuple[object, ...]], payments: list[tuple[object, ...]]
    ) -> None:
        # The hot loop of the seed (over a million bills): random() rather than randrange(), dates precomputed.
        random = self.city.rng.random
        today = self.city.today
        behaviour = self.city.behaviour[plan.customer]
        price = PRICE[plan.customer_class]
        first_month = periods.month_start(plan.opened_on)
        months = [m for m in self.months if m.month >= first_month]
        unpaid_from = len(months) - plan.unpaid_last
        late_chance = LATE_CHANCE[plan.payer]
        for n, m in enumerate(months):
            kwh = max(1, int(plan.base_kwh * m.season * (0.85 + 0.3 * random())))
            amount = kwh * price // 100
            paid: date | None
            if plan.prepaid:
                day = 0  # taken from the prepaid balance on issue
            elif n >= unpaid_from:
                day = -1
            elif late_chance and random() < late_chance:
                day = BILL_DUE_DAYS + 1 + int(random() * 44)
            else:
                day = int(random() * 20)
            paid = m.days[day] if day >= 0 else None
            if paid is not None and paid >= today:
                paid = None  # not paid yet
            self.last_bill_id += 1
            bills.append(
                (
                    self.last_bill_id,
                    plan.id,
                    m.period,
                    kwh,
                    amount,
                    m.stored_issued,
                    m.stored_due,
                    None if paid is None else m.stored_days[day],
                )
            )
            if paid is not None and not plan.prepaid:
                self.last_payment_id += 1
                moment = self._moment(paid, 8 + int(random() * 13))
                payments.append((self.last_payment_id, plan.id, moment, amount, plan.channel))
            if m.in_window:
                behaviour.kwh += kwh
                if m.due < today:
                    behaviour.bills += 1
                    if paid is None:
                        behaviour.overdue += 1
                        behaviour.arrears_fen += amount
                    elif paid > m.due:
                        behaviour.paid_late += 1
        if plan.prepaid:
            # Top-ups every other month or so.
            for back in range(12, 0, -2):
                topped_up = today - timedelta(days=back * 30 + int(random() * 20))
                if topped_up >= plan.opened_on:
                    self.last_payment_id += 1
                    top_up = (10000, 20000, 30000)[int(random() * 3)]
                    moment = self._moment(topped_up, 9 + int(random() * 12))
                    payments.append((self.last_payment_id, plan.id, moment, top_up, "app"))

    def _moment(self, day: date, hour: int) -> object:
        """A payment time on the hour, in stored form, made once per day and hour: the seed needs a million."""
        key = (day, hour)
        moment = self.moments.get(key)
        if moment is None:
            local = datetime(day.year, day.month, day.day, hour, tzinfo=periods.LOCAL)
            moment = self.moments[key] = self.stored_paid_at(local)
        return moment


def _billing_months(city: DemoCity) -> list[BillingMonth]:
    """The twelve months billed, oldest first, with every date a bill of the month can need."""
    window_start = periods.window_start(city.today, city.thresholds.window_months)
    stored = city.loader.stored_form(Bill, "due_date")
    months = []
    for back in range(12, 0, -1):
        month = periods.month_start(city.today, back)
        issued = periods.month_start(month, -1) + timedelta(days=2)
        due = issued + timedelta(days=BILL_DUE_DAYS)
        days = tuple(issued + timedelta(days=k) for k in range(BILL_DUE_DAYS + 45))
        months.append(
            BillingMonth(
                month,
                periods.period(month),
                SEASON[month.month - 1],
                issued,
                due,
                days,
                month >= window_start,
                stored(issued),
                stored(due),
                tuple(stored(d) for d in days),
            )
        )
    return months
