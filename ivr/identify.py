"""Who is calling (身份识别): the caller number finds the account, and a caller with several accounts chooses one;
otherwise the caller types the account number and #, and the check digit is verified before any lookup. A bill is
disclosed only to a verified caller: the caller number is registered to the customer, or the customer's service
password (服务密码) is entered. Failed guesses from one number are throttled across calls (ivr/guesses.py)."""

from __future__ import annotations

import logging

from crm import account_numbers
from ivr import speech
from ivr.call import Identity, IvrCall, Rejected, ToPerson
from ivr.customers import CustomerData
from ivr.guesses import GuessesUnavailable, GuessLimiter
from ivr.menu import Entry, Menu

log = logging.getLogger(__name__)

# One more than the number's length, so that the caller's # ends the entry rather than spilling into the next.
ENTER_ACCOUNT = Entry("account_entry", "identify/enter_account", max_digits=account_numbers.LENGTH + 1)
ENTER_PASSWORD = Entry("password_entry", "verify/enter_code", max_digits=12)
# Accounts offered by number in the choice menu; 9 is for another account, 0 for a person.
MAX_LISTED = 8
OTHER_ACCOUNT = "other"


class NotVerified(Exception):  # noqa: N818 (an outcome of the flow)
    """The caller could not be verified; the reason is recorded and the bill is refused."""


def choose_account_menu(accounts: list[Identity], language: str) -> Menu:
    """户号尾号1234请按1, ... 查询其他户号请按9: the caller's accounts by their last four digits."""
    listed = accounts[:MAX_LISTED]
    prompt: list[str] = ["identify/several"]
    for index, account in enumerate(listed, start=1):
        prompt += [
            "identify/account_ending",
            *speech.digits(account.account_number[-4:], language),
            "identify/press",
            *speech.number(index, language),
        ]
    prompt.append("identify/other")
    choices = {str(index): str(index - 1) for index in range(1, len(listed) + 1)}
    choices["9"] = OTHER_ACCOUNT
    return Menu("choose_account", tuple(prompt), choices)


class Identification:
    def __init__(self, data: CustomerData, guesses: GuessLimiter) -> None:
        self.data = data
        self.guesses = guesses

    def caller_accounts(self, call: IvrCall) -> list[Identity]:
        """The caller number's accounts, looked up once per call (before the first menu, for the fault notice)."""
        number = call.channel.caller_number
        return self.data.accounts_for_caller(number) if number else []

    def identify(self, call: IvrCall) -> Identity:
        """The account this call is about; raises ToPerson after three failed tries."""
        if call.identity is not None:
            return call.identity
        accounts = call.caller_accounts
        identity: Identity | None = None
        if len(accounts) == 1:
            identity = accounts[0]
        elif accounts:
            choice = call.ask(choose_account_menu(accounts, call.language))
            if choice != OTHER_ACCOUNT:
                identity = accounts[int(choice)]
        how = "caller number"
        if identity is None:
            identity = self._typed(call)
            how = "typed"
        call.identity = identity
        call.draft.step("identified", how=how, account_id=identity.account_id, verified=identity.verified)
        self.data.note_contact(call.draft.contact_id, account_id=identity.account_id)
        return identity

    def _typed(self, call: IvrCall) -> Identity:
        caller = call.channel.caller_number
        self._refuse_if_blocked(call, caller)

        def check(typed: str) -> Identity | Rejected:
            if not account_numbers.is_valid(typed):
                # A typo, caught without a lookup: not a guess, nothing is learned from it.
                reason = "bad_length" if len(typed) != account_numbers.LENGTH else "bad_check_digit"
                return Rejected("identify/bad_account", reason)
            self._refuse_if_blocked(call, caller)
            found = self.data.account(typed, caller)
            if found is None:
                self._count_failure(call, caller)
                return Rejected("identify/unknown_account", "unknown_account")
            return found

        return call.enter(ENTER_ACCOUNT, check)

    def verify(self, call: IvrCall, identity: Identity) -> None:
        """Make sure the caller may hear this account's bill; raises NotVerified (the bill is refused) or
        ToPerson (three wrong passwords)."""
        if identity.verified:
            return
        caller = call.channel.caller_number
        if not self.data.has_password(identity.customer_id):
            call.say("verify", ["verify/no_code"], barge_in=False, result="no_password")
            raise NotVerified("no password set")
        try:
            blocked = self.guesses.blocked(caller)
        except GuessesUnavailable as exc:
            log.warning("cannot check failed guesses (%s): bill not disclosed", exc)
            call.say("verify", ["verify/unavailable"], barge_in=False, result="guesses_unavailable")
            raise NotVerified("guess counter unavailable") from exc
        if blocked:
            call.say("verify", ["identify/too_many"], barge_in=False, result="throttled")
            raise NotVerified("too many failed guesses")

        def check(password: str) -> bool | Rejected:
            if self.data.check_password(identity.account_number, password):
                return True
            try:
                now_blocked = self.guesses.failed(caller)
            except GuessesUnavailable as exc:
                call.say("verify", ["verify/unavailable"], barge_in=False, result="guesses_unavailable")
                raise NotVerified("guess counter unavailable") from exc
            if now_blocked:
                call.say("verify", ["identify/too_many"], barge_in=False, result="throttled")
                raise NotVerified("too many failed guesses")
            return Rejected("verify/wrong_code", "wrong_password")

        call.enter(ENTER_PASSWORD, check)
        identity.verified = True
        call.draft.step("verified", how="password")

    def _refuse_if_blocked(self, call: IvrCall, caller: str) -> None:
        try:
            blocked = self.guesses.blocked(caller)
        except GuessesUnavailable as exc:
            # Typing an account number discloses nothing private (outages are public); only bills need the counter.
            log.warning("cannot check failed guesses (%s); account lookup allowed", exc)
            return
        if blocked:
            call.say("identify", ["identify/too_many"], barge_in=False, result="throttled")
            raise ToPerson("too many failed guesses")

    def _count_failure(self, call: IvrCall, caller: str) -> None:
        try:
            self.guesses.failed(caller)
        except GuessesUnavailable as exc:
            log.warning("cannot count a failed guess (%s)", exc)
