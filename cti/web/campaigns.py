"""Outbound notice campaigns (外呼任务) in the pages and the API: the campaigns with their progress, making one (a
planned outage's customers, bills falling due, arrears; restorations come from restoring an outage, orders.py),
starting, pausing, resuming and stopping it; the key-account managers' tasks (大客户经理任务) and the customers'
opt-outs (拒绝外呼). The rules are campaigns/rules.py; every change goes through campaigns/service.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request

from campaigns.records import CampaignSummary, CreatedCampaign, Progress, UnknownCampaignError
from campaigns.rules import CampaignAction, CampaignError, CampaignKind, allowed_campaign_actions
from crm.vocabulary import Role
from cti.web import live
from cti.web.access import served_by_me
from cti.web.auth import me, requires
from cti.web.campaign_progress import PAGE_FIGURES, figures
from cti.web.exchange import body, plain
from cti.web.wiring import WebServices, services
from hotline import periods

bp = Blueprint("campaigns", __name__)

# Who runs campaigns: the floor's supervisors and the city dispatch (停电通知 follows their outages).
CAMPAIGN_STAFF = (Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER)
# Who works through managers' tasks: the managers themselves (agents), and supervisors who hand them out.
TASK_STAFF = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
# Stopped and finished campaigns stay on the list this long.
RECENT = timedelta(days=7)
# What a person may do to a campaign (finishing is the service's).
BUTTONS = (CampaignAction.START, CampaignAction.PAUSE, CampaignAction.RESUME, CampaignAction.STOP)
MAX_DUE_WITHIN_DAYS = 60


def refused(exc: CampaignError) -> Any:
    """The service's own words: 404 for a campaign that does not exist, 409 for what its state or data refuse."""
    if isinstance(exc, UnknownCampaignError):
        abort(404, str(exc))
    return jsonify(error="refused", detail=str(exc)), 409


def described(summary: CampaignSummary, progress: Progress, retrying: int) -> dict[str, Any]:
    data: dict[str, Any] = plain(summary)
    data["actions"] = [a.value for a in allowed_campaign_actions(summary.state) if a in BUTTONS]
    data["figures"] = figures(progress, retrying)
    data["by_state"] = plain(progress.by_state)
    data["by_outcome"] = plain(progress.by_outcome)
    data["attempts"] = progress.attempts
    return data


def one(b: WebServices, campaign_id: int) -> dict[str, Any]:
    service = b.campaigns
    summary = service.campaign(campaign_id)
    retrying = b.campaigns.retrying([campaign_id]).get(campaign_id, 0)
    return described(summary, service.progress(campaign_id), retrying)


def changed() -> None:
    """A campaign changed here: the monitor shows it with the next push, not the next figures."""
    live.hub().changed()


# -- the pages ------------------------------------------------------------------------------------------------


@bp.get("/campaigns")
@requires(*CAMPAIGN_STAFF)
def page() -> Any:
    return render_template("campaigns.html", figures=PAGE_FIGURES)


@bp.get("/tasks")
@requires(*TASK_STAFF)
def tasks_page() -> Any:
    return render_template("tasks.html", everyone=me().role is not Role.AGENT)


# -- campaigns ------------------------------------------------------------------------------------------------


@bp.get("/api/campaigns")
@requires(*CAMPAIGN_STAFF)
def list_campaigns() -> Any:
    """Every open campaign (draft, running, paused) and those stopped or finished in the last RECENT."""
    b = services()
    ids = b.campaigns.listed(periods.now_utc() - RECENT)
    retrying = b.campaigns.retrying(ids)
    items = []
    for campaign_id in ids:
        try:
            summary, progress = b.campaigns.campaign(campaign_id), b.campaigns.progress(campaign_id)
        except UnknownCampaignError:
            continue
        items.append(described(summary, progress, retrying.get(campaign_id, 0)))
    return jsonify(campaigns=items)


@bp.get("/api/campaigns/<int:campaign_id>")
@requires(*CAMPAIGN_STAFF)
def campaign(campaign_id: int) -> Any:
    try:
        return jsonify(one(services(), campaign_id))
    except CampaignError as exc:
        return refused(exc)


def _whole(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        abort(400, f"{name} is a whole number")
    return value


@bp.post("/api/campaigns")
@requires(*CAMPAIGN_STAFF)
def create() -> Any:
    """A new campaign (a draft, or started at once with start: true) from an outage or from bills."""
    data = body()
    try:
        kind = CampaignKind(str(data.get("kind", "")))
    except ValueError:
        abort(400, f"kind must be one of {', '.join(k.value for k in CampaignKind)}")
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 128):
        abort(400, "name is a text of at most 128 characters")
    name = name.strip() if name else None
    start = data.get("start", False)
    if not isinstance(start, bool):
        abort(400, "start is true or false")
    b = services()
    by = me().login
    try:
        if kind in (CampaignKind.PLANNED_OUTAGE, CampaignKind.RESTORATION):
            outage_id = data.get("outage_id")
            if not isinstance(outage_id, int) or isinstance(outage_id, bool):
                abort(400, f"a {kind} campaign names its outage: give outage_id")
            if not b.order_lookups.outage_exists(outage_id):
                abort(404, f"there is no outage {outage_id}")
            if kind is CampaignKind.PLANNED_OUTAGE:
                created = b.campaigns.create_for_outage(outage_id, by, name=name)
            else:
                created = b.campaigns.create_restoration(outage_id, by, name=name)
        else:
            days = _whole(data, "due_within_days", 3)
            amount = _whole(data, "min_amount_fen", 1)
            if not 0 <= days <= MAX_DUE_WITHIN_DAYS:
                abort(400, f"due_within_days is from 0 to {MAX_DUE_WITHIN_DAYS}")
            if amount < 1:
                abort(400, "min_amount_fen is 1 fen or more")
            created = b.campaigns.create_for_bills(kind, by, due_within_days=days, min_amount_fen=amount, name=name)
        if start:
            b.campaigns.start(created.campaign.id)
    except CampaignError as exc:
        return refused(exc)
    if start:
        changed()
    return jsonify(made(b, created)), 201


def made(b: WebServices, created: CreatedCampaign) -> dict[str, Any]:
    """A new campaign as the API returns it, with those its selection left out."""
    return {
        **one(b, created.campaign.id),
        "opted_out": created.opted_out,
        "without_phone": created.without_phone,
    }


@bp.post("/api/campaigns/<int:campaign_id>/<action>")
@requires(*CAMPAIGN_STAFF)
def control(campaign_id: int, action: str) -> Any:
    """start, pause, resume or stop; 409 with the reason when the campaign's state does not allow it."""
    chosen = next((a for a in BUTTONS if a.value == action), None)
    if chosen is None:
        abort(404, f"no action {action!r}; the actions are {', '.join(a.value for a in BUTTONS)}")
    service = services().campaigns
    steps = {
        CampaignAction.START: service.start,
        CampaignAction.PAUSE: service.pause,
        CampaignAction.RESUME: service.resume,
        CampaignAction.STOP: service.stop,
    }
    try:
        steps[chosen](campaign_id)
        found = one(services(), campaign_id)
    except CampaignError as exc:
        return refused(exc)
    changed()
    return jsonify(found)


# -- the managers' tasks --------------------------------------------------------------------------------------


def _my_agent_id() -> int:
    agent_id = services().users.agent_id(me().user_id)
    if agent_id is None:
        abort(403, "this login is not an agent's")
    return agent_id


@bp.get("/api/tasks")
@requires(*TASK_STAFF)
def tasks() -> Any:
    """An agent's own open tasks (they are the key accounts' manager); supervisors: everyone's, or ?agent=CODE's.
    ?campaign=ID: one campaign's; ?all=1: done ones too."""
    agent_code = request.args.get("agent", "").strip()
    try:
        campaign_id = int(request.args["campaign"]) if request.args.get("campaign") else None
    except ValueError:
        abort(400, "campaign is a whole number")
    b = services()
    if me().role is Role.AGENT:
        if agent_code and agent_code != me().agent_code:
            abort(403, "an agent sees only their own tasks")
        agent_id: int | None = _my_agent_id()
    elif agent_code:
        agent_id = b.users.agent_id_by_code(agent_code)
        if agent_id is None:
            abort(404, f"no agent {agent_code!r}")
    else:
        agent_id = None
    found = b.campaigns.manager_tasks(
        agent_id=agent_id, campaign_id=campaign_id, open_only=request.args.get("all") not in ("1", "true")
    )
    return jsonify(tasks=plain(found))


@bp.post("/api/tasks/<int:task_id>/done")
@requires(*TASK_STAFF)
def task_done(task_id: int) -> Any:
    """The manager told the customer: the task is done, with their notes."""
    notes = body().get("notes", "")
    if not isinstance(notes, str) or len(notes) > 1024:
        abort(400, "notes are a text of at most 1024 characters")
    b = services()
    known, owner = b.campaigns.task_owner(task_id)
    if not known:
        abort(404, f"there is no task {task_id}")
    if me().role is Role.AGENT and owner != _my_agent_id():
        abort(403, "this task is another manager's")
    try:
        b.campaigns.complete_task(task_id, notes)
    except CampaignError as exc:
        return refused(exc)
    return jsonify(ok=True, id=task_id)


# -- opt-outs -------------------------------------------------------------------------------------------------


@bp.post("/api/customers/<int:customer_id>/opt-out")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def opt_out(customer_id: int) -> Any:
    """The customer asked not to be called for these kinds of notice: never dialled for them again, and taken off
    the lists still waiting. An agent may record it for a customer of their calls only."""
    kinds = body().get("kinds")
    if not isinstance(kinds, list) or not kinds:
        abort(400, f"kinds is a list of one or more of {', '.join(k.value for k in CampaignKind)}")
    try:
        chosen = [CampaignKind(str(k)) for k in kinds]
    except ValueError:
        abort(400, f"kinds are among {', '.join(k.value for k in CampaignKind)}")
    if me().role is Role.AGENT and not served_by_me(customer_id):
        abort(403, "this customer is not one of your calls")
    service = services().campaigns
    source = "agent" if me().role is Role.AGENT else "api"
    try:
        for kind in dict.fromkeys(chosen):
            service.record_opt_out(customer_id, kind, source)
    except CampaignError as exc:
        abort(404, str(exc))
    return jsonify(customer_id=customer_id, opted_out=sorted(k.value for k in service.opted_out(customer_id)))
