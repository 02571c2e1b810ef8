"""The dialler's rules, with no I/O: what a callee hears (the notice as prompt fragments), what their keys may do, and
how a call that was never answered ended (its hang-up cause)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

from campaigns.messages import BillMessage, Message, OutageMessage, RestorationMessage
from campaigns.rules import CampaignKind, Outcome
from crm.vocabulary import LANGUAGES
from cti import causes
from hotline import periods

# The languages notices are recorded in; a callee in any other hears Chinese.
# The ACD's intent for a callee who asks for a person: the agent's workflow and screen-pop follow it.
INTENTS: Mapping[CampaignKind, str] = {
    CampaignKind.PLANNED_OUTAGE: "outage",
    CampaignKind.RESTORATION: "outage",
    CampaignKind.BILL_REMINDER: "billing",
    CampaignKind.ARREARS_NOTICE: "billing",
}
# The most times a callee may hear the notice (1 repeats it); more keys of 1 are ignored.
MAX_PLAYS = 4


def language_of(language: str) -> str:
    """The language a callee hears: their own if notices are recorded in it, else Chinese."""
    return language if language in LANGUAGES else "zh"


def outcome_of_cause(cause: int) -> Outcome:
    """How a call that was never answered ended, from its hang-up cause. A callee whose phone is off or out of
    coverage (subscriber absent) is taken as not answering: tried again later, like a phone that rang out."""
    if cause in causes.BUSY:
        return Outcome.BUSY
    if cause in causes.NOT_ANSWERED or cause in causes.ABSENT:
        return Outcome.NO_ANSWER
    if cause in causes.INVALID_NUMBER:
        return Outcome.INVALID_NUMBER
    return Outcome.FAILED


class Speech(Protocol):
    """How figures are said as prompt fragments: ivr/speech.py, which app.py passes (cti does not import ivr)."""

    def money(self, fen: int, language: str) -> list[str]: ...

    def digits(self, text: str, language: str) -> list[str]: ...

    def day(self, d: date, language: str, today: date) -> list[str]: ...

    def moment(self, when: datetime, language: str, now: datetime) -> list[str]: ...


def notice_prompts(
    kind: CampaignKind, message: Message, language: str, now: datetime, speech: Speech, *, machine: bool = False
) -> list[str]:
    """The notice as prompt names (hotline/<lang>/<name>), the figures filled in, the keys to press at the end. For
    an answering `machine`, the shorter message: no keys to press, and no bill figures (a recording may be heard by
    anyone in the house): only that there is a notice about the bill and to call 95598."""
    lang = language_of(language)
    say: list[str] = ["outbound/machine_greeting" if machine else "outbound/greeting"]
    if isinstance(message, OutageMessage):
        say += ["outbound/planned_from", *speech.moment(message.starts_at, lang, now)]
        if message.ends_at is not None:
            say += ["outbound/planned_to", *speech.moment(message.ends_at, lang, now)]
        say += ["outbound/planned_off"]
    elif isinstance(message, RestorationMessage):
        say += ["outbound/restored_at", *speech.moment(message.restored_at, lang, now), "outbound/restored"]
    elif isinstance(message, BillMessage) and machine:
        say += ["outbound/machine_bill"]
    elif isinstance(message, BillMessage):
        today = periods.local_day(now)
        say += ["outbound/account_tail", *speech.digits(message.account_tail, lang)]
        if kind is CampaignKind.ARREARS_NOTICE:
            say += ["outbound/arrears_amount", *speech.money(message.amount_fen, lang)]
            say += ["outbound/arrears_due", *speech.day(message.due_date, lang, today), "outbound/arrears_pay"]
        else:
            say += ["outbound/bill_amount", *speech.money(message.amount_fen, lang)]
            say += ["outbound/bill_due", *speech.day(message.due_date, lang, today)]
    return [*say, "outbound/machine_end" if machine else "outbound/keys"]
