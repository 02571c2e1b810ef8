"""The agent desktop (座席工作台): sign in on a seat, ready, pause, sign out; the screen-pop of the call that
rings; after the call, the disposition, notes and hot topics; transfer and hang-up."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select

from crm.models import Agent, Contact
from crm.vocabulary import Role
from cti.acd.policy import AgentProfile
from cti.screenpop import plain
from cti.web.auth import me, requires
from cti.web.backend import backend

bp = Blueprint("desk", __name__)

PAUSE_REASONS = ("break", "meal", "training", "meeting", "after_call_work", "other")
DISPOSITIONS = ("bill", "outage", "repair", "business", "complaint", "consultation", "suggestion")
# The skill that makes an agent one of the key-account team (大客户服务), the target "team:key_accounts".
TEAM_OF_SKILL = {"key_account": "key_accounts"}


def body() -> dict[str, Any]:
    """The request's JSON object; anything else is a 400 with the reason."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "send a JSON object with Content-Type: application/json")
    return data


def my_agent() -> str:
    code = me().agent_code
    if not code:
        abort(403, "this login is not an agent's")
    return code


def answer(ok: bool, detail: str, **extra: Any) -> Any:
    if ok:
        return jsonify(ok=True, state=detail, **extra)
    return jsonify(ok=False, error="refused", detail=detail), 409


@bp.get("/desk")
@requires(Role.AGENT)
def page() -> Any:
    return render_template(
        "desk.html",
        seats=backend().config.seats.names(),
        reasons=PAUSE_REASONS,
        dispositions=DISPOSITIONS,
        agent=my_agent(),
    )


@bp.get("/api/agent")
@requires(Role.AGENT)
def my_state() -> Any:
    code = my_agent()
    state = backend().desk.agent(code)
    call = state.get("call") or ""
    return jsonify(
        agent=code,
        name=me().name,
        state=state or {"state": "logged_out"},
        call=call or None,
        reasons=PAUSE_REASONS,
        dispositions=DISPOSITIONS,
    )


@bp.post("/api/agent/login")
@requires(Role.AGENT)
def sign_in() -> Any:
    seat = str(body().get("seat", ""))
    if seat not in backend().config.seats.names():
        abort(400, f"no seat {seat!r}; seats are {backend().config.seats.names()[0]}..")
    code = my_agent()
    # Every agent takes general calls (those the IVR could not put in a kind), beside their own skills.
    skills = ("general", *backend().users_skills(code))
    teams = tuple(team for skill, team in TEAM_OF_SKILL.items() if skill in skills)
    ok, detail = backend().desk.login(AgentProfile(code, skills, teams), seat)
    return answer(ok, detail)


@bp.post("/api/agent/ready")
@requires(Role.AGENT)
def ready() -> Any:
    return answer(*backend().desk.ready(my_agent()))


@bp.post("/api/agent/pause")
@requires(Role.AGENT)
def pause() -> Any:
    reason = str(body().get("reason", ""))
    if reason not in PAUSE_REASONS:
        abort(400, f"reason must be one of {', '.join(PAUSE_REASONS)}")
    return answer(*backend().desk.pause(my_agent(), reason))


@bp.post("/api/agent/logout")
@requires(Role.AGENT)
def sign_out() -> Any:
    ok = backend().desk.logout(my_agent())
    return answer(ok, "logged_out" if ok else "not logged in, or on a call")


def _my_live_call(call: str) -> dict[str, str]:
    """The ACD's record of a call offered or connected to the logged-in agent (supervisors: any call)."""
    fields = backend().desk.call(call)
    if not fields:
        abort(404, "no such live call")
    if me().role is Role.AGENT and fields.get("agent") != my_agent():
        abort(403, "this call is not yours")
    return fields


@bp.get("/api/calls/<call>/screenpop")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def screenpop(call: str) -> Any:
    fields = _my_live_call(call)
    return jsonify(backend().screenpop.build(call, fields))


@bp.post("/api/calls/<call>/hangup")
@requires(Role.AGENT)
def hang_up(call: str) -> Any:
    _my_live_call(call)
    return answer(*backend().desk.hang_up(call, my_agent()))


@bp.post("/api/calls/<call>/transfer")
@requires(Role.AGENT)
def transfer(call: str) -> Any:
    _my_live_call(call)
    target = str(body().get("target", ""))
    if not target.startswith(("skill:", "team:", "agent:")) and target != "all":
        abort(400, 'target must be "skill:NAME", "team:NAME", "agent:ID" or "all"')
    return answer(*backend().desk.transfer(call, my_agent(), target))


def own_contact(contact_id: int) -> Contact:
    """A contact the logged-in agent handled (supervisors: any contact); 404 and 403 otherwise."""
    with backend().sessions() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            abort(404, "no such contact")
        if me().role is Role.AGENT:
            code = session.scalar(select(Agent.code).where(Agent.id == contact.agent_id)) if contact.agent_id else None
            if code != my_agent():
                abort(403, "this contact is not yours")
        return contact


@bp.post("/api/contacts/<int:contact_id>/wrapup")
@requires(Role.AGENT)
def wrap_up(contact_id: int) -> Any:
    data = body()
    disposition = str(data.get("disposition", ""))
    if disposition not in DISPOSITIONS:
        abort(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
    notes = str(data.get("notes", ""))
    if len(notes) > 2000:
        abort(400, "notes are limited to 2000 characters")
    topics = data.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) and 0 < len(t) <= 32 for t in topics):
        abort(400, "topics must be a list of short words")
    own_contact(contact_id)
    with backend().sessions.begin() as session:
        contact = session.get_one(Contact, contact_id)
        contact.disposition = disposition
        contact.agent_notes = notes
        contact.topics = sorted(set(topics))[:10]
        saved = {
            "id": contact.id,
            "disposition": contact.disposition,
            "notes": contact.agent_notes,
            "topics": contact.topics,
        }
    return jsonify(plain(saved))
