"""Agent assessment (座席考核, seed 002 4.3): per agent and period, the figures and the call recordings;
supervisors only."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, send_file

from crm.vocabulary import Role
from cti.web.auth import requires
from cti.web.exchange import plain
from cti.web.wiring import services
from hotline import periods
from reporting.order_quality import OrderQuality
from reporting.queue_rows import Period

bp = Blueprint("assessment", __name__)


def period() -> Period:
    """The period asked for as ?from=YYYY-MM-DD&to=YYYY-MM-DD (local days, both included); default: today."""
    today = periods.local_day(periods.now_utc())
    try:
        first = date.fromisoformat(request.args.get("from") or today.isoformat())
        last = date.fromisoformat(request.args.get("to") or first.isoformat())
    except ValueError:
        abort(400, "from and to are dates: YYYY-MM-DD")
    if last < first or (last - first).days > 366:
        abort(400, "the period runs forwards and spans at most a year")
    return Period.local_days(first, last)


@bp.get("/assessment")
@requires(Role.SUPERVISOR, Role.ADMIN)
def page() -> Any:
    return render_template("assessment.html")


@bp.get("/api/assessment")
@requires(Role.SUPERVISOR, Role.ADMIN)
def assessment() -> Any:
    asked = period()
    found = services()
    agents = found.reports.assessment(asked, found.recordings)
    orders = found.order_quality.by_agent(asked.start, asked.end)
    rows = []
    for a in agents:
        row = plain(a)
        row.update(plain(orders.get(row["agent"], OrderQuality(0, 0))))
        rows.append(row)
    return jsonify(start=asked.start.isoformat(), end=asked.end.isoformat(), agents=rows)


@bp.get("/api/recordings/<int:contact_id>")
@requires(Role.SUPERVISOR, Role.ADMIN)
def recording(contact_id: int) -> Any:
    uniqueid = services().contacts.uniqueid(contact_id)
    if uniqueid is None:
        abort(404, "no such contact")
    path = services().recordings / f"acd-{uniqueid}.wav"
    if not path.is_file():
        abort(404, "this call has no recording")
    return send_file(path, mimetype="audio/wav", conditional=True)
