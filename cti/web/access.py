"""Whose is this: the checks that a live call, a contact or a customer is the logged-in agent's (supervisors may
see any). Each ends the request with 403 or 404 when it is not."""

from __future__ import annotations

from flask import abort

from crm.vocabulary import Role
from cti.web.auth import me
from cti.web.wiring import services


def my_agent() -> str:
    """The logged-in agent's staff number; 403 for a login that is not an agent's."""
    code = me().agent_code
    if not code:
        abort(403, "this login is not an agent's")
    return code


def my_live_call(call: str) -> dict[str, str]:
    """The ACD's record of a call offered or connected to the logged-in agent (supervisors: any call)."""
    fields = services().desk.call(call)
    if not fields:
        abort(404, "no such live call")
    if me().role is Role.AGENT and fields.get("agent") != my_agent():
        abort(403, "this call is not yours")
    return fields


def own_contact(contact_id: int) -> None:
    """A contact the logged-in agent handled (supervisors: any contact); 404 and 403 otherwise."""
    handler = services().contacts.handler(contact_id)
    if handler is None:
        abort(404, "no such contact")
    if me().role is Role.AGENT and handler.agent_code != my_agent():
        abort(403, "this contact is not yours")


def served_by_me(customer_id: int) -> bool:
    """An agent may read a customer whose call they took, or whose call is ringing or connected to them now."""
    found = services()
    code = me().agent_code
    if found.contacts.served(code, customer_id):
        return True
    state = found.desk.agent(code or "")
    live = found.desk.call(state["call"]) if state.get("call") else {}
    if not live:
        return False
    if live.get("account") in found.accounts.numbers_of(customer_id):
        return True
    # A callee of an outbound notice put through to this agent: the customer the notice was for.
    attempt = live.get("campaign_attempt", "")
    if not attempt.isdigit():
        return False
    return found.campaign_lookups.customer_called(int(attempt)) == customer_id
