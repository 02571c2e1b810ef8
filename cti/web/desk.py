"""The agent desktop (座席工作台): sign in on a seat, ready, pause, sign out; the screen-pop of the call that
rings; after the call, the disposition, notes and hot topics; transfer and hang-up."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template

from crm.vocabulary import DISPOSITIONS, Role
from cti.acd.policy import agent_profile
from cti.web.access import my_agent, my_live_call, own_contact
from cti.web.auth import me, requires
from cti.web.exchange import answer, body, plain
from cti.web.wiring import services

bp = Blueprint("desk", __name__)

PAUSE_REASONS = ("break", "meal", "training", "meeting", "after_call_work", "other")


@bp.get("/desk")
@requires(Role.AGENT)
def page() -> Any:
    return render_template(
        "desk.html",
        seats=services().config.seats.names(),
        reasons=PAUSE_REASONS,
        dispositions=DISPOSITIONS,
        agent=my_agent(),
    )


@bp.get("/api/agent")
@requires(Role.AGENT)
def my_state() -> Any:
    code = my_agent()
    state = services().desk.agent(code)
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
    if seat not in services().config.seats.names():
        abort(400, f"no seat {seat!r}; seats are {services().config.seats.names()[0]}..")
    code = my_agent()
    ok, detail = services().desk.login(agent_profile(code, services().users.skills(code)), seat)
    return answer(ok, detail)


@bp.post("/api/agent/ready")
@requires(Role.AGENT)
def ready() -> Any:
    return answer(*services().desk.ready(my_agent()))


@bp.post("/api/agent/pause")
@requires(Role.AGENT)
def pause() -> Any:
    reason = str(body().get("reason", ""))
    if reason not in PAUSE_REASONS:
        abort(400, f"reason must be one of {', '.join(PAUSE_REASONS)}")
    return answer(*services().desk.pause(my_agent(), reason))


@bp.post("/api/agent/logout")
@requires(Role.AGENT)
def sign_out() -> Any:
    ok = services().desk.logout(my_agent())
    return answer(ok, "logged_out" if ok else "not logged in, or on a call")


@bp.get("/api/calls/<call>/screenpop")
@requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def screenpop(call: str) -> Any:
    fields = my_live_call(call)
    return jsonify(services().screenpop.build(call, fields))


@bp.post("/api/calls/<call>/hangup")
@requires(Role.AGENT)
def hang_up(call: str) -> Any:
    my_live_call(call)
    return answer(*services().desk.hang_up(call, my_agent()))


@bp.post("/api/calls/<call>/transfer")
@requires(Role.AGENT)
def transfer(call: str) -> Any:
    my_live_call(call)
    target = str(body().get("target", ""))
    if not target.startswith(("skill:", "team:", "agent:")) and target != "all":
        abort(400, 'target must be "skill:NAME", "team:NAME", "agent:ID" or "all"')
    return answer(*services().desk.transfer(call, my_agent(), target))


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
    return jsonify(plain(services().contacts.wrap_up(contact_id, disposition, notes, topics)))
