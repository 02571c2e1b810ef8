"""The JSON API's own parts: contacts by caller number, customers, and the OpenAPI description of the whole API
(cti/web/openapi.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from sqlalchemy import exists, select

from crm.models import Account, Agent, CampaignAttempt, CampaignCallee, Contact
from crm.services import Problem, Refusal
from crm.vocabulary import Role
from cti.screenpop import plain
from cti.web.auth import me, requires
from cti.web.backend import backend
from cti.web.desk import own_contact
from cti.web.openapi import document

bp = Blueprint("api", __name__)


@bp.get("/api/openapi.json")
@requires()
def openapi() -> Any:
    return jsonify(document())


@bp.get("/api/contacts")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def contacts_by_caller() -> Any:
    ani = request.args.get("ani", "").strip()
    if not ani or len(ani) > 32 or not ani.lstrip("+").isdigit():
        abort(400, "give the caller number as ?ani=digits")
    found = list(backend().reports.contacts_by_caller(ani))
    if me().role is Role.AGENT:
        code = me().agent_code
        found = [c for c in found if c.agent == code]
    return jsonify(contacts=plain(found))


@bp.get("/api/contacts/<int:contact_id>")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def contact(contact_id: int) -> Any:
    own_contact(contact_id)
    found = backend().reports.contact(contact_id)
    if found is None:
        abort(404, "no such contact")
    return jsonify(plain(found))


@bp.get("/api/customers/<int:customer_id>")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def customer(customer_id: int) -> Any:
    if me().role is Role.AGENT and not served_by_me(customer_id):
        abort(403, "this customer is not one of your calls")
    whole = backend().customers.customer_360(customer_id)
    if isinstance(whole, Refusal):
        abort(503 if whole.problem is Problem.UNAVAILABLE else 404, whole.detail)
    return jsonify(plain(whole))


def served_by_me(customer_id: int) -> bool:
    """An agent may read a customer whose call they took, or whose call is ringing or connected to them now."""
    code = me().agent_code
    with backend().sessions() as session:
        took = session.scalar(
            select(
                exists()
                .where(Contact.account_id == Account.id, Account.customer_id == customer_id)
                .where(Contact.agent_id == Agent.id, Agent.code == code)
            )
        )
        if took:
            return True
        account_numbers = set(session.scalars(select(Account.number).where(Account.customer_id == customer_id)))
    state = backend().desk.agent(code or "")
    live = backend().desk.call(state["call"]) if state.get("call") else {}
    if not live:
        return False
    if live.get("account") in account_numbers:
        return True
    # A callee of an outbound notice put through to this agent: the customer the notice was for.
    attempt = live.get("campaign_attempt", "")
    if not attempt.isdigit():
        return False
    with backend().sessions() as session:
        called = session.scalar(
            select(CampaignCallee.customer_id)
            .join(CampaignAttempt, CampaignAttempt.callee_id == CampaignCallee.id)
            .where(CampaignAttempt.id == int(attempt))
        )
    return called == customer_id
