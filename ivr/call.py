"""One caller's time in the IVR: prompts played, menus asked, digits read, each step written to the contact's IVR
path with the prompts Asterisk played; and the hand-off to a person with what was learned, for the ACD.

A flow that must end with a person raises `ToPerson` from wherever it is; the route turns it into the hand-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from crm.contacts import ContactDraft
from crm.vocabulary import Intent
from ivr.fastagi import DIGITS, AgiChannel
from ivr.menu import PERSON_KEY, Act, Entry, Menu, decide, read_entry
from ivr.progress import IvrProgress

log = logging.getLogger(__name__)

T = TypeVar("T")

# The longest IVR path handed to the ACD in HOTLINE_IVR_PATH; the contact row keeps the whole path.
PATH_VARIABLE_LIMIT = 240

# After information (a bill, an outage, a work order number): hear it again, back to the main menu, or a person;
# silence means the caller has heard what they called for, and is thanked.
AFTER_INFO = Menu(
    "after_info", ("menu/after_info",), {"1": "again", "9": "main"}, timeout_ms=4000, on_silence="goodbye"
)


class ToPerson(Exception):  # noqa: N818 (an outcome, not an error)
    """The call goes to a person: the caller asked for one, failed a menu three times, or self-service cannot
    help (identification failed, a bill cannot be disclosed)."""

    def __init__(self, reason: str, failed_at: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        # The menu or entry the caller failed three times, when that is the reason.
        self.failed_at = failed_at


@dataclass(frozen=True)
class Rejected:
    """An entry that was typed but is not acceptable: `notice` is said before the caller tries again."""

    notice: str
    reason: str


@dataclass
class Identity:
    """Who the caller is, once known: the account, its customer's tier and account manager, and whether the caller
    proved it (the caller number is registered to the customer, or the service password was entered)."""

    account_id: int
    account_number: str
    customer_id: int
    tier: str
    manager: str
    verified: bool


class IvrCall:
    """The IVR's side of one call. `language` is the prompt language the caller chose; `line` the number called
    (main: 95598, key: the key-account line, survey: after an agent). Where it waits for the caller and what it
    takes is reported to `progress` as it happens (hotline/events.py, ivr.*)."""

    def __init__(
        self, channel: AgiChannel, draft: ContactDraft, language: str, line: str, progress: IvrProgress | None = None
    ) -> None:
        self.channel = channel
        self.progress = progress or IvrProgress(None)
        self.draft = draft
        self.language = language
        self.line = line
        self.intent: str = Intent.GENERAL
        self.identity: Identity | None = None
        # Candidates found by the caller number before any menu: used by the fault announcement and identify().
        self.caller_accounts: list[Identity] = []
        # True once the caller has heard to the end something they called for (a bill, an outage, a repair
        # result, the fault announcement): hanging up after that is a completed call, not an abandoned one.
        self.informed = False
        # The menu, entry or announcement in progress: where a caller who hangs up left.
        self.at = ""
        # Keys pressed while a prompt that cannot be cut was playing: held for the next question, so that a caller
        # who types ahead loses nothing (docs/architecture.md, "Keys and prompts").
        self.held = ""

    # -- prompts -------------------------------------------------------------------------------------------------

    def sound(self, name: str) -> str:
        """The Asterisk sound of a prompt name; `en:name` plays the English prompt whatever the call's language."""
        language, _, bare = name.rpartition(":")
        return f"hotline/{language or self.language}/{bare}"

    def report(self, kind: str, **data: object) -> None:
        self.progress.report(kind, self.channel.uniqueid, **data)

    def _waiting(self, menu: str, attempt: int) -> Callable[[], None]:
        """The report that the call waits for input at `menu`, sent once the prompt asking for it is with Asterisk."""
        return lambda: self.report("ivr.wait", menu=menu, attempt=attempt, line=self.line)

    def _stream(
        self, names: Sequence[str], cut: bool, waiting: Callable[[], None] | None = None
    ) -> tuple[list[str], str | None]:
        """Play prompts one after another. With `cut`, a key stops them and is returned; a key held from before is
        returned at once, with nothing played. Without, they play to the end, and keys pressed meanwhile are held
        for what comes next. Returns what Asterisk played (a prompt cut short included) and the key. `waiting` is
        called once the first prompt is with Asterisk: from then on every key is taken, one way or the other."""
        if cut and self.held:
            if waiting is not None:
                waiting()
            return [], self._take_held()
        played: list[str] = []
        for name in names:
            key, offset = self.channel.stream_file(self.sound(name), DIGITS, 0, sent=waiting)
            waiting = None
            while key and not cut and offset is not None:
                # Held, and the prompt goes on from where the key stopped it.
                self.held += key
                key, offset = self.channel.stream_file(self.sound(name), DIGITS, offset)
            played.append(name)
            if key and cut:
                return played, key
        return played, None

    def _take_held(self) -> str | None:
        """The first key held from before (taken), or None if none is held."""
        if not self.held:
            return None
        key, self.held = self.held[0], self.held[1:]
        return key

    def _next_key(self, timeout_ms: int) -> str | None:
        """A key held from before, else the next key pressed within `timeout_ms`."""
        return self._take_held() or self.channel.wait_for_digit(timeout_ms)

    def say(self, step: str, names: Sequence[str], *, barge_in: bool = True, **details: object) -> str | None:
        """Tell the caller something. With barge-in any key cuts it short and is returned, so that a caller who
        knows what comes next can answer the following menu at once. Without, it is said whole, and keys pressed
        meanwhile are held for the next question."""
        self.at = step
        held = len(self.held)
        played, key = self._stream(names, barge_in, self._waiting(step, 1))
        if len(self.held) > held:
            details["held"] = len(self.held) - held
        self._record(step, played, key, **details)
        return key

    def _record(self, step: str, played: list[str], key: str | None, **details: object) -> None:
        entry: dict[str, object] = dict(details)
        if key:
            entry["key"] = key
            entry["barge_in"] = True
        entry["played"] = played
        self.draft.step(step, **entry)

    def inform(self, step: str, words: Sequence[str], menu: Menu = AFTER_INFO) -> str:
        """Say the information, then ask what next (AFTER_INFO); returns `main` or `goodbye`. A key pressed during
        the information answers the menu at once."""
        while True:
            key = self.say(step, words)
            self.informed = self.informed or key is None
            choice = self.ask(menu, first_key=key)
            if choice != "again":
                return choice

    # -- menus and entries ---------------------------------------------------------------------------------------

    def ask(self, menu: Menu, *, first_key: str | None = None) -> str:
        """Say the menu and return the caller's choice. `first_key`: a key the caller already pressed during what
        came before, taken as the answer without saying the menu. Raises ToPerson (0, or too many failures)."""
        self.at = menu.name
        failures = 0
        notice = ""
        attempt = 0
        while True:
            attempt += 1
            cut = False
            played: list[str] = []
            key: str | None
            if first_key:
                key, first_key = first_key, None
            else:
                # Any key cuts the prompt short, a wrong one too: the caller is answered at once.
                prompts = [notice, *menu.prompt] if notice else menu.prompt
                played, key = self._stream(prompts, True, self._waiting(menu.name, attempt))
                cut = key is not None
                if key is None:
                    key = self._next_key(menu.timeout_ms)
            self.report("ivr.key", menu=menu.name, attempt=attempt, key=key or "")
            decision = decide(menu, key, failures)
            entry: dict[str, object] = {"key": key or "", "attempt": attempt}
            if cut:
                entry["barge_in"] = True
            entry["played"] = played
            if decision.act is Act.CHOOSE and decision.reason:
                entry["after"] = decision.reason
            self.draft.step(menu.name, **entry)
            if decision.act is Act.CHOOSE:
                return decision.choice
            if decision.act is Act.PERSON:
                asked = key == PERSON_KEY and menu.person_key
                raise ToPerson(decision.reason, failed_at="" if asked else menu.name)
            if decision.act is Act.RETRY:
                failures += 1
                notice = decision.notice
            else:
                notice = ""

    def enter(self, entry: Entry, check: Callable[[str], T | Rejected]) -> T:
        """Ask for digits ended by # until `check` accepts them, and return what it made of them. The digits
        themselves are not recorded (passwords, account numbers): the IVR path says only how each try ended."""
        self.at = entry.name
        failures = 0
        notice = ""
        attempt = 0
        while True:
            attempt += 1
            prompts = [notice, entry.prompt] if notice else [entry.prompt]
            played, typed, timed_out = self._type_in(prompts, entry, self._waiting(entry.name, attempt))
            decision = read_entry(typed, timed_out)
            result = {Act.PERSON: "person", Act.REPEAT: "repeat", Act.RETRY: "no_input"}.get(decision.act, "")
            if result:
                self.report("ivr.entry", menu=entry.name, attempt=attempt, result=result, digits=len(typed))
            if decision.act is Act.PERSON:
                self.draft.step(entry.name, key="0", attempt=attempt, result="person", played=played)
                raise ToPerson(decision.reason)
            if decision.act is Act.REPEAT:
                self.draft.step(entry.name, attempt=attempt, result="repeat", played=played)
                notice = ""
                continue
            if decision.act is Act.RETRY:
                self.draft.step(entry.name, attempt=attempt, result="no_input", played=played)
                failures += 1
                notice = decision.notice
            else:
                outcome = check(decision.choice)
                reason = outcome.reason if isinstance(outcome, Rejected) else "ok"
                self.report("ivr.entry", menu=entry.name, attempt=attempt, result=reason, digits=len(typed))
                if not isinstance(outcome, Rejected):
                    self.draft.step(entry.name, attempt=attempt, result="ok", played=played)
                    return outcome
                self.draft.step(entry.name, attempt=attempt, result=outcome.reason, played=played)
                failures += 1
                notice = outcome.notice
            if failures >= entry.tries:
                self._stream([notice], False)
                raise ToPerson(f"{failures} failures in {entry.name}", failed_at=entry.name)

    def _type_in(self, prompts: list[str], entry: Entry, waiting: Callable[[], None]) -> tuple[list[str], str, bool]:
        """Say the prompts and collect keys up to #, `entry.max_digits` keys, or `entry.timeout_ms` without one.
        The first key may come during the prompts (the notice of a failed try included): a caller who knows what
        is asked types ahead. Returns what was played, the digits without #, and whether the wait timed out.

        The keys are read by one GET DATA, never key by key: Asterisk drops a key that arrives while no AGI
        command runs, so an entry read with one command per key loses a digit whenever the next command is late.
        The entry's own prompt is that command's prompt; only a key that cuts a notice before it (or keys held
        from before) leaves one gap, between that key and the command that reads the rest."""
        *notices, prompt = prompts
        played: list[str] = []
        key: str | None = None
        still_to_report: Callable[[], None] | None = waiting
        if notices or self.held:
            # The report goes with the first notice, or with the first held key.
            played, key = self._stream(notices, True, waiting)
            still_to_report = None
        if key is None:
            typed, timed_out = self.channel.get_data(
                self.sound(prompt), entry.timeout_ms, entry.max_digits, still_to_report
            )
            return [*played, prompt], typed, timed_out
        typed = ""
        while key is not None:
            if key == "#":
                return played, typed, False
            typed += key
            if len(typed) >= entry.max_digits:
                return played, typed, False
            key = self._take_held()
        rest, timed_out = self.channel.get_data("", entry.timeout_ms, entry.max_digits - len(typed))
        return played, typed + rest, timed_out

    # -- the end of the IVR --------------------------------------------------------------------------------------

    def path_summary(self) -> str:
        """The menus and flows the caller went through, in order, without repeats: language>main>bill>..."""
        names: list[str] = []
        for step in self.draft.path:
            name = str(step.get("step", ""))
            if name and (not names or names[-1] != name):
                names.append(name)
        summary = ">".join(names)
        return summary if len(summary) <= PATH_VARIABLE_LIMIT else "…" + summary[-PATH_VARIABLE_LIMIT + 1 :]

    def handoff_variables(self) -> dict[str, str]:
        """What the ACD reads (docs/architecture.md, "Hand-off to the human path")."""
        identity = self.identity
        return {
            "HOTLINE_INTENT": self.intent,
            "HOTLINE_TIER": identity.tier if identity else "",
            "HOTLINE_ACCOUNT": identity.account_number if identity else "",
            "HOTLINE_MANAGER": identity.manager if identity else "",
            "HOTLINE_VERIFIED": "1" if identity and identity.verified else "0",
            "HOTLINE_LANGUAGE": self.language,
            "HOTLINE_LINE": self.line,
            "HOTLINE_CONTACT": str(self.draft.contact_id),
            "HOTLINE_IVR_PATH": self.path_summary(),
        }

    def set_handoff_variables(self) -> None:
        for name, value in self.handoff_variables().items():
            self.channel.set_variable(name, value)

    def to_person(self, reason: str) -> None:
        """Leave the IVR for the human path with everything learned so far."""
        log.info("to a person (%s): intent %s, line %s", reason, self.intent, self.line)
        self.set_handoff_variables()
        self.draft.step("to_person", reason=reason, intent=self.intent)
        self.channel.set_variable("HOTLINE_REASON", reason)
        self.channel.set_variable("HOTLINE_NEXT", "human")

    def goodbye(self) -> None:
        """Thank the caller and let the dialplan hang up."""
        self.say("goodbye", ["thanks"], barge_in=False)
        self.channel.set_variable("HOTLINE_NEXT", "done")
