"""The queue log's words: Asterisk's queue_log event names, which of the hotline's events (hotline/events.py) are
written as which, and which of an event's data go in data1..data5. The ACD's events are written by these
(reporting/queue_log.py, for cti/acd/notifier.py), and the floor figures read the rows by the same names. Pure: no
database here."""

from __future__ import annotations

from typing import Any, Final

ENTERQUEUE: Final = "ENTERQUEUE"
RINGING: Final = "RINGING"
CONNECT: Final = "CONNECT"
RINGNOANSWER: Final = "RINGNOANSWER"
RINGCANCELED: Final = "RINGCANCELED"
ABANDON: Final = "ABANDON"
COMPLETECALLER: Final = "COMPLETECALLER"
COMPLETEAGENT: Final = "COMPLETEAGENT"
TRANSFER: Final = "TRANSFER"
ESCALATE: Final = "ESCALATE"
ADDMEMBER: Final = "ADDMEMBER"
UNPAUSE: Final = "UNPAUSE"
PAUSE: Final = "PAUSE"
WRAPUP: Final = "WRAPUP"
REMOVEMEMBER: Final = "REMOVEMEMBER"
# Not Asterisk's: it has no event for these.
PRIORITY: Final = "PRIORITY"
PENDING: Final = "PENDING"

# The queue_log name of each of the hotline's queue and agent events.
NAMES: Final = {
    "queue.enter": ENTERQUEUE,
    "queue.offer": RINGING,
    "queue.connect": CONNECT,
    "queue.noanswer": RINGNOANSWER,
    "queue.reject": RINGCANCELED,
    "queue.abandon": ABANDON,
    "queue.complete": COMPLETECALLER,  # COMPLETEAGENT when the agent hung up: see queue_log_name
    "queue.transfer": TRANSFER,
    "queue.escalate": ESCALATE,
    "agent.login": ADDMEMBER,
    "agent.ready": UNPAUSE,
    "agent.pause": PAUSE,
    "agent.wrapup": WRAPUP,
    "agent.logout": REMOVEMEMBER,
    "queue.priority": PRIORITY,
    "agent.pending": PENDING,
}

# Which of an event's data go in data1..data5, per event type, in queue_log's order where Asterisk has one
# (ENTERQUEUE: url, callerid, position; CONNECT: holdtime; COMPLETE*: holdtime, calltime; RINGNOANSWER: ringtime).
DATA_FIELDS: Final = {
    "queue.enter": ("priority", "tier", "intent", "app"),
    "queue.offer": ("seat",),
    "queue.connect": ("hold_s",),
    "queue.noanswer": ("cause", "agent_state"),
    "queue.reject": ("cause", "agent_state"),
    "queue.abandon": ("during",),
    "queue.complete": ("ended_by",),
    "queue.escalate": ("step", "previous"),
    "agent.login": ("seat",),
    "agent.pause": ("reason", "by"),
    "agent.logout": ("by",),
    "agent.pending": ("action", "by"),
    "queue.transfer": ("from_queue", "talk_s"),
    "queue.priority": ("priority", "previous", "by"),
    "agent.wrapup": ("seconds",),
    "agent.ready": ("after",),
}


def is_queue_event(evt: dict[str, Any]) -> bool:
    """Queue and agent events go in the queue log; supervision and IVR events do not."""
    return str(evt.get("type", "")).startswith(("queue.", "agent."))


def queue_log_name(evt: dict[str, Any]) -> str:
    """Asterisk's queue_log name for an event."""
    if evt["type"] == "queue.complete" and (evt.get("data") or {}).get("ended_by") == "agent":
        return COMPLETEAGENT
    kind = str(evt["type"])
    return NAMES.get(kind, kind)


def data_values(evt: dict[str, Any]) -> list[str]:
    """data1..data5 of an event's row."""
    data = evt.get("data") or {}
    values = [str(data.get(key, "")) for key in DATA_FIELDS.get(evt["type"], ())]
    return values + [""] * (5 - len(values))
