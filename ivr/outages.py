"""Outage information (停电信息): the planned and fault outages reaching the caller's supply point, with the cause
and the expected restoration; and the announcement a call starts with when the caller's area has a fault outage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from crm.vocabulary import Intent
from ivr import speech
from ivr.call import IvrCall
from ivr.customers import CustomerData, OutageNotice
from ivr.identify import Identification
from ivr.menu import Menu

NONE_KNOWN = Menu(
    "outage_none", ("outage/none_menu",), {"1": "repair", "9": "main"}, timeout_ms=4000, on_silence="goodbye"
)
# Said at most this many outages; a caller does not remember more, and an agent can tell the rest.
MAX_SAID = 3


def restoration_words(outage: OutageNotice, language: str, now: datetime) -> list[str]:
    """预计明天十八点恢复供电 / Power is expected back tomorrow eighteen hundred."""
    if outage.expected_restoration_at is None:
        return ["outage/no_estimate"]
    when = speech.moment(outage.expected_restoration_at, language, now)
    return ["outage/expected", *when, "outage/restored"] if language == "zh" else ["outage/expected", *when]


def outage_words(outages: list[OutageNotice], language: str, now: datetime) -> list[str]:
    """Each outage: now or from when, why, and until when."""
    words: list[str] = []
    for outage in outages[:MAX_SAID]:
        cause = f"outage/cause/{outage.kind}"
        if outage.active(now):
            words += ["outage/now", cause]
        else:
            words += ["outage/upcoming", *speech.moment(outage.starts_at, language, now), "outage/because", cause]
        if language == "zh":
            words.append("outage/off")
        words += restoration_words(outage, language, now)
    return words


def fault_announcement(outage: OutageNotice, language: str, now: datetime) -> list[str]:
    """The first thing a caller in a fault area hears: what happened, when power is expected, and that they may
    hang up if that is why they called."""
    return ["outage/fault_in_area", *restoration_words(outage, language, now), "outage/hang_up_ok"]


class OutageCheck:
    """Outages at the caller's supply point; none known: say so and offer repair (`repair` is the triage flow)."""

    def __init__(
        self,
        data: CustomerData,
        identification: Identification,
        clock: Callable[[], datetime],
        repair: Callable[[IvrCall], str],
    ) -> None:
        self.data = data
        self.identification = identification
        self.clock = clock
        self.repair = repair

    def __call__(self, call: IvrCall) -> str:
        call.intent = Intent.OUTAGE
        identity = self.identification.identify(call)
        now = self.clock()
        outages = self.data.outages(identity.account_number)
        if outages:
            return call.inform("outage", outage_words(outages, call.language, now))
        choice = call.inform("outage", ["outage/none"], NONE_KNOWN)
        return self.repair(call) if choice == "repair" else choice

    def fault_in_area(self, call: IvrCall) -> str | None:
        """Announce an active fault outage at any of the caller's accounts; returns a key pressed meanwhile."""
        now = self.clock()
        for identity in call.caller_accounts[:MAX_SAID]:
            for outage in self.data.outages(identity.account_number):
                if outage.kind == "fault" and outage.active(now):
                    key = call.say("fault_notice", fault_announcement(outage, call.language, now))
                    call.informed = key is None
                    return key
        return None
