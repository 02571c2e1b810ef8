"""Customer tiers (客户分级): the pure scoring rules, and their thresholds from the configuration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crm.tiers import Behaviour, CustomerClass, Tier, TierThresholds, decide_tier, risk_score
from hotline.config import load

THRESHOLDS = TierThresholds()
PUNCTUAL_HOUSEHOLD = Behaviour(
    customer_class=CustomerClass.RESIDENTIAL,
    contracted_kva=8,
    kwh=2400,
    bills=12,
    paid_late=0,
    overdue=0,
    arrears_fen=0,
    complaints=0,
)


def test_a_punctual_household_is_standard_with_no_risk() -> None:
    decision = decide_tier(PUNCTUAL_HOUSEHOLD, THRESHOLDS)
    assert decision.tier is Tier.STANDARD
    assert decision.risk_score == 0


def test_a_critical_load_is_always_a_key_account() -> None:
    hospital = replace(PUNCTUAL_HOUSEHOLD, customer_class=CustomerClass.CRITICAL_LOAD, contracted_kva=10)
    assert decide_tier(hospital, THRESHOLDS).tier is Tier.KEY_ACCOUNT


@pytest.mark.parametrize(
    ("kva", "kwh", "tier"),
    [
        (314, 999_999, Tier.STANDARD),
        (315, 0, Tier.KEY_ACCOUNT),
        (100, 1_000_000, Tier.KEY_ACCOUNT),
    ],
)
def test_contracted_load_or_consumption_makes_a_key_account(kva: int, kwh: int, tier: Tier) -> None:
    factory = replace(PUNCTUAL_HOUSEHOLD, customer_class=CustomerClass.INDUSTRIAL, contracted_kva=kva, kwh=kwh)
    assert decide_tier(factory, THRESHOLDS).tier is tier


def test_overdue_bills_with_arrears_over_the_line_mean_attention() -> None:
    debtor = replace(PUNCTUAL_HOUSEHOLD, overdue=2, arrears_fen=60_000)
    decision = decide_tier(debtor, THRESHOLDS)
    # 30 * 2/12 punctuality + 2 * 10 overdue + 25 arrears = 50
    assert decision.risk_score == 50
    assert decision.tier is Tier.ATTENTION
    assert "2 overdue" in decision.reason


def test_small_arrears_alone_stay_standard() -> None:
    one_late_bill = replace(PUNCTUAL_HOUSEHOLD, overdue=1, arrears_fen=12_000)
    assert decide_tier(one_late_bill, THRESHOLDS).tier is Tier.STANDARD


def test_chronic_lateness_and_complaints_add_up_to_attention() -> None:
    late = replace(PUNCTUAL_HOUSEHOLD, paid_late=10, complaints=1)
    assert risk_score(late, THRESHOLDS) == 25 + 5
    assert decide_tier(late, THRESHOLDS).tier is Tier.STANDARD
    assert decide_tier(replace(late, complaints=3), THRESHOLDS).tier is Tier.ATTENTION


def test_a_key_account_in_arrears_stays_a_key_account_for_its_manager() -> None:
    factory = Behaviour(CustomerClass.INDUSTRIAL, 630, 900_000, 12, 6, 3, 900_000, 2)
    decision = decide_tier(factory, THRESHOLDS)
    assert decision.tier is Tier.KEY_ACCOUNT
    assert decision.risk_score >= THRESHOLDS.attention_score


def test_the_risk_score_is_capped_at_100_and_needs_no_bills() -> None:
    worst = Behaviour(CustomerClass.RESIDENTIAL, 8, 0, 12, 12, 12, 10**9, 50)
    assert risk_score(worst, THRESHOLDS) == 100
    newcomer = replace(PUNCTUAL_HOUSEHOLD, bills=0, kwh=0)
    assert risk_score(newcomer, THRESHOLDS) == 0


def test_thresholds_come_from_the_configuration_and_the_environment(tmp_path: Path) -> None:
    cfg = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path), "HOTLINE_TIERS_ATTENTION_SCORE": "20"})
    thresholds = cfg.tiers
    assert thresholds == replace(TierThresholds(), attention_score=20)
    one_late_bill = replace(PUNCTUAL_HOUSEHOLD, overdue=1, arrears_fen=60_000)
    assert decide_tier(one_late_bill, THRESHOLDS).tier is Tier.STANDARD
    assert decide_tier(one_late_bill, thresholds).tier is Tier.ATTENTION


def test_the_committed_defaults_match_the_code_defaults(tmp_path: Path) -> None:
    cfg = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)})
    assert cfg.tiers == TierThresholds()
    assert cfg.demo.customers == 100_000
