"""The dialler's rules without a call: how a call that was never answered ended (its hang-up cause), and the notices
as prompt fragments, each of them catalogued in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from campaigns.messages import BillMessage, OutageMessage, RestorationMessage
from campaigns.rules import CampaignKind, Outcome
from cti import causes
from cti.outbound.rules import notice_prompts, outcome_of_cause
from ivr import prompts, speech


def test_hang_up_causes_map_to_outcomes() -> None:
    assert outcome_of_cause(17) is Outcome.BUSY
    assert outcome_of_cause(19) is Outcome.NO_ANSWER
    assert outcome_of_cause(18) is Outcome.NO_ANSWER
    assert outcome_of_cause(1) is Outcome.INVALID_NUMBER
    assert outcome_of_cause(34) is Outcome.FAILED
    assert outcome_of_cause(0) is Outcome.FAILED


def test_a_phone_that_is_off_is_tried_again_and_a_declined_call_is_a_failure() -> None:
    # Subscriber absent (a phone switched off or out of coverage) is no answer for a callee, to be tried again like
    # one that rang out; the ACD counts it as a seat it could not reach.
    assert outcome_of_cause(causes.SUBSCRIBER_ABSENT) is Outcome.NO_ANSWER
    # Declined (603) is a refusal for the ACD's agents, but not "busy" for a callee: tried as a failed call.
    assert causes.CALL_REJECTED in causes.REFUSED
    assert outcome_of_cause(causes.CALL_REJECTED) is Outcome.FAILED
    for cause in (causes.NO_ROUTE_TO_DESTINATION, causes.NUMBER_CHANGED, causes.INVALID_NUMBER_FORMAT):
        assert outcome_of_cause(cause) is Outcome.INVALID_NUMBER


def test_notices_say_their_figures_with_catalogued_prompts() -> None:
    now = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 local
    outage = OutageMessage("x台区", now + timedelta(days=1), now + timedelta(days=1, hours=8), "计划检修")
    bill = BillMessage(12345, date(2026, 5, 9), "9900001234")
    restored = RestorationMessage("x台区", now - timedelta(hours=1))
    for language in ("zh", "en"):
        known = prompts.names(language)
        said = notice_prompts(CampaignKind.PLANNED_OUTAGE, outage, language, now, speech)
        assert said[0] == "outbound/greeting" and said[-1] == "outbound/keys"
        start_at = speech.moment(outage.starts_at, language, now)
        assert said[1:2] == ["outbound/planned_from"] and said[2 : 2 + len(start_at)] == start_at
        assert "outbound/planned_to" in said
        said_bill = notice_prompts(CampaignKind.BILL_REMINDER, bill, language, now, speech)
        assert speech.money(12345, language)[0] in said_bill
        tail = speech.digits("1234", language)
        start = said_bill.index("outbound/account_tail") + 1
        assert said_bill[start : start + 4] == tail
        said_arrears = notice_prompts(CampaignKind.ARREARS_NOTICE, bill, language, now, speech)
        assert "outbound/arrears_amount" in said_arrears and "outbound/bill_amount" not in said_arrears
        said_back = notice_prompts(CampaignKind.RESTORATION, restored, language, now, speech)
        assert "outbound/restored_at" in said_back
        machine = notice_prompts(CampaignKind.PLANNED_OUTAGE, outage, language, now, speech, machine=True)
        assert machine[0] == "outbound/machine_greeting" and machine[-1] == "outbound/machine_end"
        assert machine[1:-1] == said[1:-1]  # the same window, without the keys
        # A recording may be heard by anyone: a bill's figures are not left on it.
        machine_bill = notice_prompts(CampaignKind.ARREARS_NOTICE, bill, language, now, speech, machine=True)
        assert machine_bill == ["outbound/machine_greeting", "outbound/machine_bill", "outbound/machine_end"]
        for name in [*said, *said_bill, *said_arrears, *said_back, *machine, *machine_bill]:
            assert name in known, (language, name)
