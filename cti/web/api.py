"""The JSON API's own parts: contacts by caller number, customers, and the OpenAPI description of the whole API
(cti/web/openapi.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from crm.customer_records import Problem, Refusal
from crm.vocabulary import Role
from cti.web.access import own_contact, served_by_me
from cti.web.auth import me, requires
from cti.web.exchange import plain
from cti.web.openapi import document
from cti.web.wiring import services

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
    found = list(services().reports.contacts_by_caller(ani))
    if me().role is Role.AGENT:
        code = me().agent_code
        found = [c for c in found if c.agent == code]
    return jsonify(contacts=plain(found))


@bp.get("/api/contacts/<int:contact_id>")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def contact(contact_id: int) -> Any:
    own_contact(contact_id)
    found = services().reports.contact(contact_id)
    if found is None:
        abort(404, "no such contact")
    return jsonify(plain(found))


@bp.get("/api/customers/<int:customer_id>")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def customer(customer_id: int) -> Any:
    if me().role is Role.AGENT and not served_by_me(customer_id):
        abort(403, "this customer is not one of your calls")
    whole = services().customers.customer_360(customer_id)
    if isinstance(whole, Refusal):
        abort(503 if whole.problem is Problem.UNAVAILABLE else 404, whole.detail)
    return jsonify(plain(whole))
