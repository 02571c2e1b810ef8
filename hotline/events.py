"""The hotline's one event format: what the ACD and the IVR report, on one Redis stream (for replay) and the pub/sub
channel of the same name (for live pages and tests). The ACD publishes through cti/acd/notifier.py, the IVR through
ivr/progress.py; both build events here.

An event is one JSON object:

  {"type": "queue.enter" | "queue.offer" | "queue.connect" | "queue.noanswer" | "queue.reject" |
           "queue.abandon" | "queue.complete" | "queue.transfer" | "queue.escalate" | "queue.announce" |
           "queue.announced" | "queue.priority" |
           "workorder.overdue" |
           "agent.login" | "agent.ready" | "agent.pause" | "agent.wrapup" | "agent.logout" | "agent.pending" |
           "supervise.start" | "supervise.end" |
           "ivr.start" | "ivr.wait" | "ivr.key" | "ivr.entry" | "ivr.end",
   "at": "2026-11-23T04:21:06.123+00:00",   # when it happened (UTC)
   "call": "1795407666.0" | null,          # the caller's channel uniqueid
   "queue": "skill:billing" | null,        # the group the call was waiting for
   "agent": "1001" | null,
   "data": {...}}                           # per type: hold_s, ring_s, talk_s, position, priority, cause, reason

The data of the desk's and the supervisor's actions:

  queue.transfer   queue: the target group, agent: the agent who transferred;
                   {from_agent, from_queue, to, talk_s}
  queue.priority   queue: the call's group; {priority, previous, by}
  agent.pause      {reason}; a supervisor's: {reason: "supervisor", by}, plus deferred: true when it waited for the
                   end of the agent's call
  agent.logout     {} from the agent; a supervisor's: {by}, plus deferred: true as for a pause
  agent.pending    a supervisor's pause or logout of an agent ringing or talking, taken when that call ends:
                   {action: "pause" | "logout", by}
  supervise.start  call, agent: the supervised agent; {supervision, mode: listen | whisper | barge, seat, by}
  supervise.end    as supervise.start, plus {reason, started, duration_s}; reason: supervisor (hung up), stopped
                   (from the desk), call_ended, transferred, unanswered, failed. Every supervision requested ends
                   in one, started or not.

A call's time in self-service (queue and agent are null; call is the channel's uniqueid, as for the ACD):

  ivr.start  the IVR took the call: {line: main | key | survey, contact (the contact row's id), sip_call_id
             (the caller leg's SIP Call-ID, so that a phone can find its own call)}
  ivr.wait   the IVR takes the caller's keys at `menu`, from now on: a menu, an entry (account number,
             password), information a key may cut short (bill, outage, fault_notice...) or a notice said whole,
             whose keys are held for the next question (verify, goodbye...); {menu, attempt (1, 2, 3: the
             how-many-th time it asks there), line}. Sent once the prompt has been handed to Asterisk: a key
             pressed from then on is taken (docs/architecture.md, "Keys and prompts").
  ivr.key    a menu took a key (or silence, key ""): {menu, attempt, key}
  ivr.entry  an entry took typed digits (never the digits themselves): {menu, attempt, result (ok, no_input,
             repeat, person, or why the digits were refused), digits (how many)}
  ivr.end    the call left self-service: {line, outcome: completed | human | abandoned | error, at (the menu or
             step it was in), reason (to a person: why), failed_at (the menu failed three times, if that was why)}

The queue log (cti/acd/notifier.py) keeps the queue and agent events with Asterisk's queue_log fields; supervision and
IVR events are not queue events and stay out of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

STREAM = "acd:events"
# The stream is trimmed to about this many events; pages and tests read it live, reports read the database.
STREAM_LENGTH = 50_000


def event(kind: str, call: str | None = None, queue: str | None = None, agent: str | None = None,
          **data: Any) -> dict[str, Any]:  # fmt: skip
    """One event in the format above, stamped now."""
    return {
        "type": kind,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "call": call,
        "queue": queue,
        "agent": agent,
        "data": data,
    }
