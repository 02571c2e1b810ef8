"""The FastAGI routes of the self-service IVR — `main` (95598), `key` (the key-account line) and `survey` (after an
agent) — and where each call's contact row is opened and closed.

The dialplan reads HOTLINE_NEXT afterwards: `done` ends the call; anything else (including nothing, if a route
failed) sends the caller to a person.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from crm.contacts import ContactDraft, ContactLog
from crm.vocabulary import Intent
from ivr.billing import BillEnquiry
from ivr.call import IvrCall, ToPerson
from ivr.customers import CustomerData, CustomerUnavailable
from ivr.fastagi import AgiChannel, Hangup, Route
from ivr.guesses import GuessLimiter
from ivr.identify import Identification
from ivr.menu import Menu
from ivr.outages import OutageCheck
from ivr.progress import IvrProgress
from ivr.repair import RepairTriage

log = logging.getLogger(__name__)

LANGUAGES = {"1": "zh", "2": "en"}
MAIN_MENU = Menu(
    "main_menu",
    ("menu/main",),
    {"1": "billing", "2": "outage", "3": "repair", "4": "business", "5": "complaint"},
)
# New connection (业扩报装) and other business; complaint and suggestion: the intent the ACD routes by.
BUSINESS_MENU = Menu("business_menu", ("menu/business",), {"1": "business", "2": "consultation"})
COMPLAINT_MENU = Menu("complaint_menu", ("menu/complaint",), {"1": "complaint", "2": "suggestion"})
# The key-account line puts the caller through to a person unless they ask for self-service.
KEY_WELCOME = Menu(
    "key_welcome", ("key/welcome",), {"1": "self_service"}, timeout_ms=2000, on_silence="person", on_invalid="person"
)
SURVEY = Menu(
    "survey",
    ("survey/ask",),
    {str(score): str(score) for score in range(1, 6)},
    tries=2,
    on_failure="none",
    person_key=False,
)


def language_menu(default: str) -> Menu:
    """普通话请按1, For English press 2; silence or another key keeps the default language."""
    return Menu(
        "language",
        (f"{default}:welcome", "zh:language/mandarin", "en:language/english"),
        LANGUAGES,
        timeout_ms=2000,
        on_silence=default,
        on_invalid=default,
    )


class Ivr:
    """The routes, with the services they use."""

    def __init__(
        self,
        contacts: ContactLog,
        language: str,
        data: CustomerData,
        guesses: GuessLimiter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: IvrProgress | None = None,
    ) -> None:
        self.contacts = contacts
        # Where each call is, reported as it goes (hotline/events.py); nothing is reported without one.
        self.progress = progress or IvrProgress(None)
        self.language = language
        self.data = data
        self.identification = Identification(data, guesses)
        self.repair = RepairTriage(data, self.identification, clock)
        self.outages = OutageCheck(data, self.identification, clock, self.repair)
        self.flows: dict[str, Callable[[IvrCall], str]] = {
            "billing": BillEnquiry(data, self.identification, clock),
            "outage": self.outages,
            "repair": self.repair,
            "business": self._to_person_for(BUSINESS_MENU),
            "complaint": self._to_person_for(COMPLAINT_MENU),
        }
        self.language_menu = language_menu(language)

    def routes(self) -> dict[str, Route]:
        return {"main": self.main, "key": self.key_line, "survey": self.survey}

    # -- the routes ----------------------------------------------------------------------------------------------

    def main(self, channel: AgiChannel) -> None:
        """95598: the language, the fault announcement for the caller's area if any, then the main menu."""
        self._run(channel, "main", self._main)

    def key_line(self, channel: AgiChannel) -> None:
        """The key-account line (大客户专线): identified by caller number first, then to a person with the
        key-account priority, unless the caller picks self-service."""
        self._run(channel, "key", self._key_line)

    def survey(self, channel: AgiChannel) -> None:
        """The satisfaction survey the ACD sends a caller to after the agent hangs up: 1 to 5, stored with the
        contact of the call (found by HOTLINE_CONTACT, else by the channel's uniqueid)."""
        contact_id = _int(channel.get_variable("HOTLINE_CONTACT")) or self.data.contact_id(channel.uniqueid)
        if contact_id is not None:
            language = channel.env.get("agi_language") or self.language
            call = IvrCall(channel, ContactDraft(contact_id), language, "survey", self.progress)
            self._started(call)
            outcome = "error"
            try:
                channel.answer()
                self._survey(call, contact_id)
                outcome = "completed"
            except Hangup:
                outcome = "abandoned"
                raise
            finally:
                self._ended(call, outcome)
            return
        # Reached without an IVR call before it (a test extension): the survey gets a contact of its own.
        self._run(channel, "survey", lambda call: self._survey(call, call.draft.contact_id))

    # -- the flows -----------------------------------------------------------------------------------------------

    def _main(self, call: IvrCall) -> None:
        self._known_by_number(call)
        self._choose_language(call)
        key = self.outages.fault_in_area(call)
        self._main_menu(call, first_key=key)

    def _choose_language(self, call: IvrCall) -> None:
        language = call.ask(self.language_menu)
        if language != call.language:
            call.language = language
            self.data.note_contact(call.draft.contact_id, language=language)
        if language != call.channel.env.get("agi_language"):
            # The human path's prompts and the survey follow the channel's language.
            call.channel.set_variable("CHANNEL(language)", language)

    def _main_menu(self, call: IvrCall, first_key: str | None = None) -> None:
        while True:
            choice = call.ask(MAIN_MENU, first_key=first_key)
            first_key = None
            if self.flows[choice](call) == "goodbye":
                call.goodbye()
                return

    def _to_person_for(self, menu: Menu) -> Callable[[IvrCall], str]:
        """Business and complaints reach a person, with the intent the caller picked."""

        def flow(call: IvrCall) -> str:
            call.intent = Intent(call.ask(menu))
            raise ToPerson(f"asked for {call.intent}")

        return flow

    def _known_by_number(self, call: IvrCall, prefer_tier: str = "") -> None:
        """Look the caller number up before the first prompt: one account (or one of `prefer_tier`) identifies
        the caller at once; several are offered when an account is needed."""
        accounts = self.identification.caller_accounts(call)
        call.caller_accounts = accounts
        preferred = [a for a in accounts if prefer_tier and a.tier == prefer_tier]
        if preferred or len(accounts) == 1:
            call.identity = (preferred or accounts)[0]
            call.draft.step("identified", how="caller number", account_id=call.identity.account_id, verified=True)
            self.data.note_contact(call.draft.contact_id, account_id=call.identity.account_id)

    def _key_line(self, call: IvrCall) -> None:
        self._known_by_number(call, prefer_tier="key_account")
        if call.ask(KEY_WELCOME) == "self_service":
            self._main_menu(call)
            return
        # A key account calling from an unregistered phone still gets its priority once it types its number.
        self.identification.identify(call)
        raise ToPerson("key-account line")

    def _survey(self, call: IvrCall, contact_id: int) -> None:
        score = call.ask(SURVEY)
        if score == "none":
            call.goodbye()
            return
        self.data.record_satisfaction(contact_id, int(score))
        log.info("satisfaction %s for contact %d", score, contact_id)
        call.say("survey_result", ["survey/thanks"], barge_in=False, score=int(score))
        call.channel.set_variable("HOTLINE_NEXT", "done")

    # -- the contact row -----------------------------------------------------------------------------------------

    def _run(self, channel: AgiChannel, line: str, flow: Callable[[IvrCall], None]) -> None:
        """Open the call's contact, run the flow, and close the contact with how the call left the IVR."""
        log.info("call from %s to %s (%s line)", channel.caller_number or "unknown", channel.dialled_number, line)
        draft = self.contacts.open(
            channel.uniqueid, channel.caller_number, channel.dialled_number, channel.channel, self.language
        )
        call = IvrCall(channel, draft, self.language, line, self.progress)
        self._started(call)
        reason = failed_at = ""
        try:
            try:
                channel.answer()
                flow(call)
                outcome = "completed"
            except ToPerson as person:
                call.to_person(person.reason)
                outcome, reason, failed_at = "human", person.reason, person.failed_at
            except CustomerUnavailable as exc:
                # The customer database is not answering: nothing self-service can do, a person can.
                log.error("customer data unavailable: %s", exc)
                call.say("unavailable", ["sorry"], barge_in=False)
                call.to_person("customer data unavailable")
                outcome, reason = "human", "customer data unavailable"
        except Hangup:
            draft.step("hangup", at=call.at)
            outcome = "completed" if call.informed else "abandoned"
            self.contacts.close(draft, outcome)
            self._ended(call, outcome)
            raise
        except Exception:
            self._apologize(call)
            self.contacts.close(draft, "error")
            self._ended(call, "error")
            raise
        self.contacts.close(draft, outcome)
        self._ended(call, outcome, reason, failed_at)

    def _started(self, call: IvrCall) -> None:
        # The caller leg's SIP Call-ID, which the dialplan passes when it knows it: a phone finds its call by it.
        sip_call_id = call.channel.env.get("agi_arg_1", "")
        call.report("ivr.start", line=call.line, contact=call.draft.contact_id, sip_call_id=sip_call_id)

    def _ended(self, call: IvrCall, outcome: str, reason: str = "", failed_at: str = "") -> None:
        call.report("ivr.end", line=call.line, outcome=outcome, at=call.at, reason=reason, failed_at=failed_at)

    def _apologize(self, call: IvrCall) -> None:
        """After a fault of ours the dialplan fails the call open; the caller hears why, and the ACD gets what was
        learned so far. Best effort: the fault may be the channel itself."""
        with contextlib.suppress(Exception):
            call.set_handoff_variables()
            call.say("apology", ["sorry"], barge_in=False)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
