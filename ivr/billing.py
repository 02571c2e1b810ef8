"""Bill and arrears (电费查询, 欠费): what is due and by when, the last payment, arrears with their consequence said
plainly; prepaid accounts (预付费) hear their balance. Only a verified caller hears any of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from crm.vocabulary import Intent
from ivr import speech
from ivr.call import IvrCall
from ivr.customers import BillSummary, CustomerData
from ivr.identify import Identification, NotVerified
from ivr.menu import Menu

# A prepaid balance under 50 yuan is said to be low: a typical household uses that in a week or two.
LOW_BALANCE_FEN = 5000


def bill_words(account_number: str, bill: BillSummary, language: str, today: date) -> list[str]:
    """The bill as prompt fragments, in the order a clerk would say it."""
    words = ["identify/account_ending", *speech.digits(account_number[-4:], language)]
    if bill.prepaid:
        words += ["bill/prepaid_balance", *speech.money(bill.balance_fen, language)]
        if bill.balance_fen < LOW_BALANCE_FEN:
            words.append("bill/prepaid_low")
        return words + _last_payment(bill, language, today)
    if not bill.has_bills:
        return [*words, "bill/no_bills"]
    if bill.amount_due_fen > 0:
        words += ["bill/amount_due", *speech.money(bill.amount_due_fen, language)]
        if bill.due_date is not None and bill.arrears_fen < bill.amount_due_fen:
            words += ["bill/due_date", *speech.day(bill.due_date, language, today)]
    else:
        words.append("bill/nothing_due")
    if bill.arrears_fen > 0:
        words += ["bill/arrears", *speech.money(bill.arrears_fen, language), "bill/arrears_consequence"]
    return words + _last_payment(bill, language, today)


def _last_payment(bill: BillSummary, language: str, today: date) -> list[str]:
    if bill.last_payment_on is None:
        return ["bill/no_payment"]
    return [
        "bill/last_payment",
        *speech.day(bill.last_payment_on, language, today),
        "bill/amount",
        *speech.money(bill.last_payment_fen, language),
    ]


# After a refusal there is nothing to hear again: the main menu, or a person who can verify the caller otherwise.
AFTER_REFUSAL = Menu("after_refusal", ("menu/main_or_agent",), {"9": "main"}, timeout_ms=4000, on_silence="goodbye")


class BillEnquiry:
    def __init__(self, data: CustomerData, identification: Identification, clock: Callable[[], datetime]) -> None:
        self.data = data
        self.identification = identification
        self.clock = clock

    def __call__(self, call: IvrCall) -> str:
        call.intent = Intent.BILLING
        identity = self.identification.identify(call)
        try:
            self.identification.verify(call, identity)
        except NotVerified as refused:
            call.draft.step("bill_refused", reason=str(refused))
            key = call.say("bill", ["bill/refused"])
            return call.ask(AFTER_REFUSAL, first_key=key)
        bill = self.data.bill_summary(identity.account_number)
        today = self.clock().astimezone(speech.LOCAL_TIME).date()
        return call.inform("bill", bill_words(identity.account_number, bill, call.language, today))
