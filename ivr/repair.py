"""Fault repair triage (故障报修) by the one-household-one-meter rule (一户一表, domain.md):

1. Only this home without power, or the neighbours too?
2. Only this home, and it has its own meter: has the breaker or leakage switch (触保器) in the meter box tripped?
   Tripped and it resets: solved by the caller. It will not stay on: a fault on the customer's side of the
   property boundary (产权分界点), for an electrician at the customer's cost (费用自理).
3. The neighbours too: a known outage in the area (planned, a fault, or one suspected from other callers' reports)
   is told with its cause and expected restoration, and the call is attached to it rather than opening an order;
   otherwise a repair work order (抢修工单) is opened and its number read back. Such orders are what reveals an
   outage nobody knew of (work_orders/rules.py's correlation rule).
A home on a shared meter, or whose breaker has not tripped, gets a work order: the fault may be on the utility's side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from crm.vocabulary import Intent
from ivr import speech
from ivr.call import Identity, IvrCall
from ivr.customers import CustomerData, OutageNotice
from ivr.identify import Identification
from ivr.menu import Menu
from ivr.outages import outage_words
from work_orders.rules import spoken_digits

SCOPE = Menu("repair_scope", ("repair/scope",), {"1": "home", "2": "neighbours"})
# The caller walks to the meter box: more time to answer.
BREAKER = Menu("repair_breaker", ("repair/breaker",), {"1": "tripped", "2": "not_tripped"}, timeout_ms=10_000)
RESET = Menu("repair_reset", ("repair/reset",), {"1": "restored", "2": "trips_again"}, timeout_ms=15_000)


class Leaf(StrEnum):
    """Where a repair call ends."""

    SOLVED = "solved"  # the caller reset the breaker
    CUSTOMER_SIDE = "customer_side"  # the customer's own equipment: an electrician at their cost
    KNOWN_OUTAGE = "known_outage"  # told the cause and the expected restoration
    WORK_ORDER = "work_order"  # a repair work order was opened


class RepairTriage:
    def __init__(self, data: CustomerData, identification: Identification, clock: Callable[[], datetime]) -> None:
        self.data = data
        self.identification = identification
        self.clock = clock

    def __call__(self, call: IvrCall) -> str:
        call.intent = Intent.REPAIR
        identity = self.identification.identify(call)
        if call.ask(SCOPE) == "neighbours":
            now = self.clock()
            known = [o for o in self.data.outages(identity.account_number) if o.active(now)]
            if known:
                return self._known_outage(call, identity, known, now)
            return self._work_order(call, identity, "邻居也停电，无已知停电", neighbours_out=True)
        if not self.data.own_meter(identity.account_number):
            return self._work_order(call, identity, "仅本户停电，合表用户", neighbours_out=False)
        if call.ask(BREAKER) == "not_tripped":
            return self._work_order(call, identity, "仅本户停电，一户一表，开关未跳闸", neighbours_out=False)
        if call.ask(RESET) == "restored":
            return self._end(call, Leaf.SOLVED, ["repair/solved"])
        return self._end(call, Leaf.CUSTOMER_SIDE, ["repair/customer_side"])

    def _known_outage(self, call: IvrCall, identity: Identity, known: list[OutageNotice], now: datetime) -> str:
        # The call counts as a report on the outage (a fault first: that is what a crew is restoring), so that the
        # caller is told when power is back, and no order is opened beside it.
        outage = next((o for o in known if o.kind == "fault"), known[0])
        if outage.outage_id is not None:
            self.data.report_on_outage(outage.outage_id, identity, call.draft.contact_id)
        return self._end(call, Leaf.KNOWN_OUTAGE, outage_words(known, call.language, now), outage=outage.outage_id)

    def _work_order(self, call: IvrCall, identity: Identity, summary: str, *, neighbours_out: bool) -> str:
        number = self.data.open_repair_order(
            identity, call.draft.contact_id, f"IVR报修：{summary}", neighbours_out=neighbours_out
        )
        call.draft.step("work_order", number=number)
        # Read back digit by digit; the letters of the number (GD: 工单) are the same on every order.
        words = ["repair/order_created", *speech.digits(spoken_digits(number), call.language), "repair/order_followup"]
        return self._end(call, Leaf.WORK_ORDER, words)

    def _end(self, call: IvrCall, leaf: Leaf, words: list[str], **details: object) -> str:
        call.draft.step("repair_result", leaf=leaf.value, **details)
        return call.inform("repair", words)
