"""Failed guesses at account numbers and service passwords, counted per caller number across calls in Redis, so
that one number cannot try password after password by calling again.

Redis key (the whole schema of this module): `hotline:ivr:guesses:<caller number>`, an integer, the failed guesses
from that number; it expires WINDOW_S seconds after the first failure of the window. Callers without a number share
the key `hotline:ivr:guesses:anonymous`.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "hotline:ivr:guesses:"
# Five failures in an hour: a caller who mistypes still gets two calls of three tries; a guesser gets nowhere.
LIMIT = 5
WINDOW_S = 3600

# INCR and the window's expiry in one step, so that two calls failing at once cannot leave a key without expiry.
_COUNT_FAILURE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class GuessesUnavailable(Exception):  # noqa: N818 (a state, not a fault of the caller)
    """Redis cannot be reached: the IVR cannot tell whether this caller is guessing, so it discloses nothing
    that needs a password."""


class GuessLimiter:
    def __init__(self, url: str, limit: int = LIMIT, window_s: int = WINDOW_S) -> None:
        # Short timeouts: a caller must not wait on a Redis that is down; the flow refuses disclosure instead.
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.limit = limit
        self.window_s = window_s
        self._count = self.redis.register_script(_COUNT_FAILURE)

    @staticmethod
    def key(caller_number: str) -> str:
        return KEY_PREFIX + (caller_number or "anonymous")

    def blocked(self, caller_number: str) -> bool:
        """True once this number has used up its failed guesses for the window."""
        try:
            count = self.redis.get(self.key(caller_number))
        except redis.RedisError as exc:
            raise GuessesUnavailable(str(exc)) from exc
        return count is not None and int(count) >= self.limit

    def failed(self, caller_number: str) -> bool:
        """Count one failed guess; True if the number is now blocked."""
        try:
            count = int(self._count(keys=[self.key(caller_number)], args=[self.window_s]))
        except redis.RedisError as exc:
            raise GuessesUnavailable(str(exc)) from exc
        if count >= self.limit:
            log.warning("caller %s blocked after %d failed guesses", caller_number or "anonymous", count)
        return count >= self.limit

    def close(self) -> None:
        self.redis.close()
