"""Hang-up causes (ITU-T Q.850) that the ACD and the dialler tell apart, named once.

Asterisk reports why a channel ended with these numbers (ChannelDestroyed's `cause`); a SIP answer is mapped onto
them (486 Busy Here -> 17, 480 -> 18 or 19, 603 Decline -> 21, 404 -> 1). The sets say what a cause means for
whoever rang; what to do about it is each caller's rule: the ACD's offer outcomes (cti/acd/services.py), the
dialler's attempt outcomes (cti/outbound/rules.py).
"""

from __future__ import annotations

UNALLOCATED_NUMBER = 1
NO_ROUTE_TO_DESTINATION = 3
USER_BUSY = 17
NO_USER_RESPONDING = 18
NO_ANSWER = 19
SUBSCRIBER_ABSENT = 20
CALL_REJECTED = 21
NUMBER_CHANGED = 22
INVALID_NUMBER_FORMAT = 28

# The called party is busy: on the phone, or they pressed "busy" (486).
BUSY = frozenset({USER_BUSY})
# The called party said no: busy, or declined the call.
REFUSED = frozenset({USER_BUSY, CALL_REJECTED})
# It rang and nobody answered.
NOT_ANSWERED = frozenset({NO_USER_RESPONDING, NO_ANSWER})
# The called phone is not there now: switched off, out of coverage, or (a seat) not registered.
ABSENT = frozenset({SUBSCRIBER_ABSENT})
# The number itself is wrong: not allocated, no route to it, changed, or malformed.
INVALID_NUMBER = frozenset({UNALLOCATED_NUMBER, NO_ROUTE_TO_DESTINATION, NUMBER_CHANGED, INVALID_NUMBER_FORMAT})
