"""Customer tiers (客户分级) from behaviour: pure functions, no I/O, so that `app.py crm retier` and the demo seed
apply the same rules and the rules are tested in microseconds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CustomerClass(StrEnum):
    """What the customer uses electricity for (用电类别)."""

    RESIDENTIAL = "residential"  # 居民生活
    COMMERCIAL = "commercial"  # 一般工商业
    INDUSTRIAL = "industrial"  # 大工业
    CRITICAL_LOAD = "critical_load"  # 重要电力用户: hospitals, water works, whose loss of supply endangers people


class Tier(StrEnum):
    """How the hotline serves the customer: key accounts (大客户) get a green channel and an account manager,
    the broad middle self-service first, attention (欠费风险) customers reminders and collection."""

    KEY_ACCOUNT = "key_account"
    STANDARD = "standard"
    ATTENTION = "attention"


@dataclass(frozen=True)
class TierThresholds:
    """The configurable lines; [tiers] in hotline.toml documents each."""

    window_months: int = 12
    large_customer_kva: int = 315
    large_customer_kwh: int = 1_000_000
    arrears_fen: int = 50_000
    attention_score: int = 40


@dataclass(frozen=True)
class Behaviour:
    """What the customer did in the window, over all their accounts."""

    customer_class: CustomerClass
    contracted_kva: int
    kwh: int
    bills: int  # bills due in the window
    paid_late: int  # of those, paid after the due date
    overdue: int  # of those, still unpaid after the due date
    arrears_fen: int  # what the overdue bills add up to
    complaints: int


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    risk_score: int
    reason: str


# The risk score's parts and their caps; they add up to at most 100.
PUNCTUALITY_POINTS = 30  # all bills late or overdue
POINTS_PER_OVERDUE_BILL, OVERDUE_BILLS_COUNTED = 10, 3
ARREARS_POINTS = 25  # arrears at or above the configured amount
POINTS_PER_COMPLAINT, COMPLAINTS_COUNTED = 5, 3


def risk_score(behaviour: Behaviour, thresholds: TierThresholds) -> int:
    """Arrears risk from 0 to 100: how often bills were late or left unpaid, how much is overdue, and complaints
    (an unhappy customer is more likely to stop paying and worth a proactive call)."""
    b = behaviour
    score = 0
    if b.bills:
        score += PUNCTUALITY_POINTS * min(b.paid_late + b.overdue, b.bills) // b.bills
    score += POINTS_PER_OVERDUE_BILL * min(b.overdue, OVERDUE_BILLS_COUNTED)
    if b.arrears_fen > 0 and b.arrears_fen >= thresholds.arrears_fen:
        score += ARREARS_POINTS
    score += POINTS_PER_COMPLAINT * min(b.complaints, COMPLAINTS_COUNTED)
    return score


def decide_tier(behaviour: Behaviour, thresholds: TierThresholds) -> TierDecision:
    """Value first: a key account stays one whatever its risk, because its account manager follows up its
    arrears in person; only the others fall to attention."""
    b = behaviour
    score = risk_score(b, thresholds)
    if b.customer_class is CustomerClass.CRITICAL_LOAD:
        return TierDecision(Tier.KEY_ACCOUNT, score, "critical load")
    if b.contracted_kva >= thresholds.large_customer_kva:
        return TierDecision(Tier.KEY_ACCOUNT, score, f"contracted load {b.contracted_kva} kVA")
    if b.kwh >= thresholds.large_customer_kwh:
        return TierDecision(Tier.KEY_ACCOUNT, score, f"consumption {b.kwh} kWh")
    if score >= thresholds.attention_score:
        return TierDecision(
            Tier.ATTENTION,
            score,
            f"risk {score}: {b.paid_late} late, {b.overdue} overdue of {b.bills} bills, "
            f"arrears {b.arrears_fen} fen, {b.complaints} complaints",
        )
    return TierDecision(Tier.STANDARD, score, f"risk {score}")
