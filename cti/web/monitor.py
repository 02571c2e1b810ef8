"""The supervisor's floor monitor (班长监控): the live floor (agents, waiting calls) from the ACD, today's figures
and the running campaigns' progress from the database, the self-service funnel from the IVR's state, pushed over
/ws; and the supervisor's actions on agents and calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Blueprint, abort, jsonify, render_template

from crm.vocabulary import Role
from cti.web import campaign_progress, i18n
from cti.web.auth import me, requires
from cti.web.exchange import answer, body, plain
from cti.web.wiring import WebServices, services
from hotline import periods

log = logging.getLogger(__name__)

bp = Blueprint("monitor", __name__)

# Today's figures and the campaigns' progress come from the database: recomputed at most this often, however busy
# the floor is.
FIGURES_EVERY_S = 5.0
_figures_lock = threading.Lock()
_figures_cache: dict[tuple[int, str], tuple[float, Any]] = {}
_funnel_lost = threading.Event()


def _cached(b: WebServices, name: str, compute: Callable[[WebServices], Any]) -> Any:
    key = (id(b), name)
    with _figures_lock:
        cached = _figures_cache.get(key)
        if cached and time.monotonic() - cached[0] < FIGURES_EVERY_S:
            return cached[1]
    data = compute(b)
    with _figures_lock:
        _figures_cache[key] = (time.monotonic(), data)
    return data


def _today(b: WebServices) -> dict[str, Any]:
    data: dict[str, Any] = plain(b.reports.today(periods.now_utc(), b.config.web.service_level_s))
    data["overdue_orders"] = b.orders.overdue_count()
    return data


def figures(b: WebServices) -> dict[str, Any]:
    """Today's service figures per queue and tier, the day's chart and the abandoned calls (cached briefly)."""
    found: dict[str, Any] = _cached(b, "today", _today)
    return found


def campaign_figures(b: WebServices) -> list[dict[str, Any]]:
    """The running and paused campaigns' progress (cached like the figures)."""
    found: list[dict[str, Any]] = _cached(b, "campaigns", lambda found: campaign_progress.active(found.campaigns))
    return found


def self_service(b: WebServices) -> dict[str, Any]:
    """The self-service funnel (reporting/ivr_funnel.py): {available: true, in_ivr, at_menu, calls_today, outcomes,
    containment, trouble: [{menu, gave_up, failed}]}; {available: false} while Redis does not answer, so that the
    rest of the monitor still shows. Read afresh each time: two hashes, and the supervisor watches callers move."""
    try:
        found = b.ivr_funnel()
    except redis.RedisError as exc:
        # Said once per outage: the snapshot is taken several times a second.
        if not _funnel_lost.is_set():
            _funnel_lost.set()
            log.warning("self-service funnel unavailable: %s", exc)
        return {"available": False}
    _funnel_lost.clear()
    return {"available": True, **plain(found)}


def forget_figures() -> None:
    """The figures changed in a way the next snapshot must show at once (an order went overdue, a campaign
    started)."""
    with _figures_lock:
        _figures_cache.clear()


def snapshot(b: WebServices) -> dict[str, Any]:
    """The whole monitor: the live floor, today's figures, the campaigns under way and the self-service funnel
    ("ivr"); what /api/monitor returns and /ws pushes."""
    return {
        "at_ms": int(time.time() * 1000),
        "floor": plain(b.desk.floor()),
        "today": figures(b),
        "campaigns": campaign_figures(b),
        "ivr": self_service(b),
    }


@bp.get("/monitor")
@requires(Role.SUPERVISOR, Role.ADMIN)
def page() -> Any:
    return render_template(
        "monitor.html",
        seats=services().config.seats.names(),
        campaign_figures=campaign_progress.MONITOR_FIGURES,
        words=i18n.words("campaign_kind.", "campaign_state."),
    )


@bp.get("/api/monitor")
@requires(Role.SUPERVISOR, Role.ADMIN)
def monitor() -> Any:
    return jsonify(snapshot(services()))


@bp.post("/api/agents/<agent>/pause")
@requires(Role.SUPERVISOR, Role.ADMIN)
def force_pause(agent: str) -> Any:
    return answer(*services().desk.force_pause(agent, me().login))


@bp.post("/api/agents/<agent>/logout")
@requires(Role.SUPERVISOR, Role.ADMIN)
def force_logout(agent: str) -> Any:
    return answer(*services().desk.force_logout(agent, me().login))


@bp.post("/api/calls/<call>/priority")
@requires(Role.SUPERVISOR, Role.ADMIN)
def raise_priority(call: str) -> Any:
    priority = body().get("priority")
    if not isinstance(priority, int) or not 0 <= priority < 100:
        abort(400, "priority must be a whole number from 0 to 99")
    return answer(*services().desk.raise_priority(call, priority, me().login))


@bp.post("/api/calls/<call>/<mode>")
@requires(Role.SUPERVISOR, Role.ADMIN)
def supervise(call: str, mode: str) -> Any:
    if mode not in ("listen", "whisper", "barge"):
        abort(404, "no such action")
    seat = str(body().get("seat", ""))
    if seat not in services().config.seats.names():
        abort(400, f"no seat {seat!r}")
    action = getattr(services().desk, mode)
    return answer(*action(call, seat, by=me().login))
