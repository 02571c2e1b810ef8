"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json; a test checks that it names every
API route and method the application has, and nothing it lacks."""

from __future__ import annotations

from typing import Any

# (method, path, summary, roles, request body properties or None, query parameters)
Operation = tuple[str, str, str, str, dict[str, Any] | None, tuple[str, ...]]

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}

OPERATIONS: tuple[Operation, ...] = (
    ("get", "/api/session", "The CSRF token for this session, and who is logged in", "anyone", None, ()),
    ("post", "/api/session", "Log in", "anyone (with the CSRF token)", {"login": _STR, "password": _STR}, ()),
    ("delete", "/api/session", "Log out", "anyone", None, ()),
    ("get", "/api/openapi.json", "This description", "any user", None, ()),
    ("get", "/api/agent", "The logged-in agent's state and current call", "agent", None, ()),
    ("post", "/api/agent/login", "Sign in on a seat (the softphone must be registered)", "agent", {"seat": _STR}, ()),
    ("post", "/api/agent/ready", "Ready for calls", "agent", {}, ()),
    ("post", "/api/agent/pause", "Pause with a reason", "agent", {"reason": _STR}, ()),
    ("post", "/api/agent/logout", "Sign out", "agent", {}, ()),
    (
        "get",
        "/api/calls/{call}/screenpop",
        "The screen-pop of a call offered or connected to me",
        "agent, supervisor",
        None,
        (),
    ),
    ("post", "/api/calls/{call}/hangup", "End my connected call (the caller goes to the survey)", "agent", {}, ()),
    (
        "post",
        "/api/calls/{call}/transfer",
        "Transfer my connected caller to a group or agent",
        "agent",
        {"target": _STR},
        (),
    ),
    ("post", "/api/calls/{call}/priority", "Raise a waiting call's priority", "supervisor", {"priority": _INT}, ()),
    (
        "post",
        "/api/calls/{call}/{mode}",
        "Listen, whisper (mode) or barge into a call from a seat",
        "supervisor",
        {"seat": _STR},
        (),
    ),
    ("post", "/api/agents/{agent}/pause", "Force an agent to pause", "supervisor", {}, ()),
    ("post", "/api/agents/{agent}/logout", "Force an agent to sign out", "supervisor", {}, ()),
    (
        "get",
        "/api/monitor",
        "The live floor, today's figures, the campaigns under way and the self-service funnel (ivr); also pushed on "
        "/ws as monitor.floor, its parts described in cti/web/live.py",
        "supervisor",
        None,
        (),
    ),
    ("get", "/api/assessment", "Per-agent figures for a period", "supervisor", None, ("from", "to")),
    ("get", "/api/recordings/{contact_id}", "A call's recording (audio/wav)", "supervisor", None, ()),
    (
        "get",
        "/api/contacts",
        "Contacts from a caller number, with IVR path and queue events",
        "agent (own), supervisor",
        None,
        ("ani",),
    ),
    (
        "get",
        "/api/contacts/{contact_id}",
        "One contact, with IVR path and queue events",
        "agent (own), supervisor",
        None,
        (),
    ),
    (
        "post",
        "/api/contacts/{contact_id}/wrapup",
        "Disposition, notes and hot topics of my call",
        "agent",
        {"disposition": _STR, "notes": _STR, "topics": {"type": "array", "items": _STR}},
        (),
    ),
    ("get", "/api/customers/{customer_id}", "The customer 360", "agent (own calls), supervisor", None, ()),
    (
        "get",
        "/api/work-orders",
        "Work orders, filtered",
        "any role with orders",
        None,
        ("county", "kind", "state", "overdue", "page"),
    ),
    (
        "post",
        "/api/work-orders",
        "Create a work order (from a call, or anonymous)",
        "agent, supervisor",
        {"contact_id": _INT, "kind": _STR, "summary": _STR},
        (),
    ),
    ("get", "/api/work-orders/{number}", "An order with its history", "any role with orders", None, ()),
    (
        "get",
        "/api/outages",
        "Outages raised from repair calls (?all=1: restored ones too; ?planned=1: planned ones not over yet)",
        "staff, county",
        None,
        ("all", "planned"),
    ),
    ("get", "/api/outages/{outage_id}", "An outage with the reports attached to it", "staff, county", None, ()),
    (
        "post",
        "/api/outages/{outage_id}/restore",
        "Power is back: resolve its orders together, list whom to tell (notify: also make the restoration notice)",
        "staff, county (its own)",
        {"notes": _STR, "notify": _BOOL},
        (),
    ),
    ("get", "/api/counties", "The county companies orders are dispatched to", "any role with orders", None, ()),
    (
        "post",
        "/api/work-orders/{number}/{action}",
        "Take a step of the dispatch flow",
        "the role the step allows",
        {"reason": _STR, "county_company_id": _INT, "notes": _STR, "evidence": {"type": "array", "items": _STR}},
        (),
    ),
    (
        "get",
        "/api/campaigns",
        "Outbound campaigns with their progress: the open ones and those ended in the last week",
        "supervisor, dispatcher",
        None,
        (),
    ),
    (
        "post",
        "/api/campaigns",
        "Make a campaign (201): planned_outage or restoration from outage_id, bill_reminder or arrears_notice from "
        "due_within_days and min_amount_fen; start: true starts it at once",
        "supervisor, dispatcher",
        {
            "kind": _STR,
            "outage_id": _INT,
            "due_within_days": _INT,
            "min_amount_fen": _INT,
            "name": _STR,
            "start": _BOOL,
        },
        (),
    ),
    (
        "get",
        "/api/campaigns/{campaign_id}",
        "A campaign: its summary, progress figures and counts by callee state and call outcome",
        "supervisor, dispatcher",
        None,
        (),
    ),
    (
        "post",
        "/api/campaigns/{campaign_id}/{action}",
        "Start, pause, resume or stop (action) a campaign; 409 when its state does not allow it",
        "supervisor, dispatcher",
        {},
        (),
    ),
    (
        "get",
        "/api/tasks",
        "Key-account managers' notices to give in person (?all=1: done ones too)",
        "agent (own), supervisor (anyone's, or ?agent=)",
        None,
        ("agent", "campaign", "all"),
    ),
    ("post", "/api/tasks/{task_id}/done", "A manager's task is done", "agent (own), supervisor", {"notes": _STR}, ()),
    (
        "post",
        "/api/customers/{customer_id}/opt-out",
        "The customer asks not to be called for these kinds of notice",
        "agent (own calls), supervisor",
        {"kinds": {"type": "array", "items": _STR}},
        (),
    ),
)

LIVE_STREAM = (
    "GET /ws opens a WebSocket (same-origin, logged in). Each message is a JSON object: the hotline's events (the "
    "ACD's, the IVR's ivr.*) in hotline/events.py's format (type, at, call, queue, agent, data), plus screenpop, "
    "monitor.floor (GET /api/monitor's snapshot), live.lost, live.restored, resync and ping; see cti/web/live.py. "
    "Agents receive only events naming them."
)


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, roles, body, query in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "description": f"Who may: {roles}.",
            "responses": {
                "200": {"description": "done", "content": {"application/json": {}}},
                "400": {"description": "malformed request: the detail says what is wrong"},
                "401": {"description": "not logged in"},
                "403": {"description": "logged in, but not allowed"},
                "409": {"description": "refused in the current state: the detail says why"},
            },
        }
        params = [{"name": p, "in": "path", "required": True, "schema": _STR} for p in _path_params(path)]
        params += [{"name": q, "in": "query", "required": False, "schema": _STR} for q in query]
        if params:
            operation["parameters"] = params
        if body is not None:
            operation["requestBody"] = {
                "content": {"application/json": {"schema": {"type": "object", "properties": body}}}
            }
        if method != "get":
            operation["parameters"] = [
                *operation.get("parameters", []),
                {"name": "X-CSRFToken", "in": "header", "required": True, "schema": _STR},
            ]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "95598 hotline: agent desktop, supervisor monitor, work orders and campaigns",
            "version": "1",
            "description": "Session cookie authentication (log in at POST /api/session). " + LIVE_STREAM,
        },
        "paths": paths,
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
