"""Work orders (工单) in the pages and the API: the dispatcher's list, an order's detail and history, creating an
order from a call, and each step of the dispatch flow by the role allowed to take it (work_orders/rules.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request

from campaigns.rules import CampaignError
from crm.vocabulary import Role
from cti.web.access import own_contact
from cti.web.auth import me, requires
from cti.web.exchange import body, plain
from cti.web.wiring import services
from work_orders.records import NewWorkOrder, OrderFilter
from work_orders.rules import Action, Actor, Kind, Origin, State, WorkOrderError

bp = Blueprint("orders", __name__)

EVERYONE_WITH_ORDERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER, Role.COUNTY)


def actor() -> Actor:
    who = me()
    return Actor(who.login, who.role, who.user_id, who.county_company_id)


def refused(exc: WorkOrderError) -> Any:
    # The flow's own words: which step, from which state, by whom.
    return jsonify(error="refused", detail=str(exc)), 409


@bp.get("/orders")
@requires(*EVERYONE_WITH_ORDERS)
def list_page() -> Any:
    return render_template("orders.html", kinds=[k.value for k in Kind], states=[s.value for s in State])


@bp.get("/orders/<number>")
@requires(*EVERYONE_WITH_ORDERS)
def detail_page(number: str) -> Any:
    return render_template("order.html", number=number)


def _choice(name: str, kind: Any) -> Any:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        abort(400, f"{name} must be one of {', '.join(m.value for m in kind)}")


@bp.get("/api/work-orders")
@requires(*EVERYONE_WITH_ORDERS)
def list_orders() -> Any:
    try:
        county = int(request.args["county"]) if request.args.get("county") else None
        page = int(request.args.get("page", "1"))
    except ValueError:
        abort(400, "county and page are whole numbers")
    overdue = {"1": True, "true": True, "0": False, "false": False}.get(request.args.get("overdue", ""))
    filters = OrderFilter(
        county_id=county,
        kind=_choice("kind", Kind),
        state=_choice("state", State),
        overdue=overdue,
        created_by_id=me().user_id if me().role is Role.AGENT else None,
    )
    try:
        found = services().orders.list_orders(filters, actor(), page=page)
    except WorkOrderError as exc:
        return refused(exc)
    return jsonify(total=found.total, page=found.page, per_page=found.per_page, items=plain(found.items))


@bp.post("/api/work-orders")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def create() -> Any:
    data = body()
    try:
        kind = Kind(str(data.get("kind", "")))
    except ValueError:
        abort(400, f"kind must be one of {', '.join(k.value for k in Kind)}")
    summary = str(data.get("summary", "")).strip()
    if not summary:
        abort(400, "say what the order is about in summary")
    contact_id = data.get("contact_id")
    account_number = None
    if contact_id is not None:
        if not isinstance(contact_id, int):
            abort(400, "contact_id is a whole number")
        own_contact(contact_id)
        account_number = services().contacts.account_number(contact_id)
    elif me().role is Role.AGENT:
        abort(400, "an agent creates orders from their calls: give contact_id")
    new = NewWorkOrder(
        kind=kind,
        summary=summary,
        origin=Origin.AGENT,
        account_number=account_number,
        anonymous=bool(data.get("anonymous", False)),
        contact_id=contact_id,
        callback_number=str(data.get("callback_number", "")),
        address=str(data.get("address", "")),
    )
    try:
        order = services().orders.create(new, actor())
    except WorkOrderError as exc:
        return refused(exc)
    return jsonify(plain(order)), 201


@bp.get("/api/work-orders/<number>")
@requires(*EVERYONE_WITH_ORDERS)
def detail(number: str) -> Any:
    try:
        order = services().orders.detail(number, actor())
    except WorkOrderError as exc:
        return refused(exc)
    if me().role is Role.AGENT and order.created_by_id != me().user_id:
        abort(403, "this order is not one of yours")
    return jsonify(plain(order))


@bp.get("/api/counties")
@requires(*EVERYONE_WITH_ORDERS)
def counties() -> Any:
    """The county companies an order can be dispatched to."""
    return jsonify(counties=plain(services().order_lookups.counties()))


@bp.post("/api/work-orders/<number>/<action>")
@requires(Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER, Role.COUNTY)
def step(number: str, action: str) -> Any:
    try:
        chosen = Action(action)
    except ValueError:
        abort(404, f"no action {action!r}")
    data = body()
    county = data.get("county_company_id")
    if county is not None and not isinstance(county, int):
        abort(400, "county_company_id is a whole number")
    evidence = data.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        abort(400, "evidence is a list of file references")
    crew = None
    if data.get("crew_expected_at"):
        try:
            crew = datetime.fromisoformat(str(data["crew_expected_at"]))
        except ValueError:
            abort(400, "crew_expected_at is an ISO 8601 moment with its offset")
    try:
        order = services().orders.transition(
            number,
            chosen,
            actor(),
            county_id=county,
            notes=str(data.get("reason") or data.get("notes") or ""),
            evidence=evidence,
            crew_expected_at=crew,
        )
    except WorkOrderError as exc:
        return refused(exc)
    return jsonify(plain(order))


# -- outages found from calls: the suspected ones the repair reports raised, and their restoration ---------------

OUTAGE_STAFF = (Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER)


@bp.get("/api/outages")
@requires(*OUTAGE_STAFF, Role.COUNTY)
def outages() -> Any:
    """Outages raised from repair calls; ?all=1 includes the restored ones. ?planned=1: instead, the outages
    announced ahead and not over yet (those a planned-outage notice can be made for)."""
    if request.args.get("planned") in ("1", "true"):
        return jsonify(outages=plain(services().order_lookups.planned_outages()))
    found = services().orders.outages_from_calls(active_only=request.args.get("all") not in ("1", "true"))
    return jsonify(outages=plain(found))


@bp.get("/api/outages/<int:outage_id>")
@requires(*OUTAGE_STAFF, Role.COUNTY)
def outage(outage_id: int) -> Any:
    try:
        return jsonify(plain(services().orders.outage(outage_id)))
    except WorkOrderError as exc:
        return refused(exc)


@bp.post("/api/outages/<int:outage_id>/restore")
@requires(*OUTAGE_STAFF, Role.COUNTY)
def restore(outage_id: int) -> Any:
    """Power is back: the outage ends, its attached orders are reported back together, and the customers to tell
    are listed (their numbers, for the outbound notice). notify: true also makes the restoration notice (复电通知)
    to them, a draft campaign a supervisor starts from the campaigns page."""
    data = body()
    notes = str(data.get("notes", ""))
    notify = data.get("notify", False)
    if not isinstance(notify, bool):
        abort(400, "notify is true or false")
    try:
        restored = services().orders.restore_outage(outage_id, actor(), notes)
    except WorkOrderError as exc:
        return refused(exc)
    answer: dict[str, Any] = plain(restored)
    if notify:
        # Power is back whatever becomes of the notice: a notice that cannot be made is said, not an error.
        try:
            created = services().campaigns.create_from_restoration(restored, me().login)
        except CampaignError as exc:
            answer["campaign"], answer["campaign_error"] = None, str(exc)
        else:
            answer["campaign"] = plain(created.campaign)
    return jsonify(answer)
