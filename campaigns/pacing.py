"""One trunk's pacer in a dialler process (cti/outbound/dialler.py): when the next call may start, so that the
carrier's limits (the policy's Pace of the trunk: call starts per second, calls up at once) are kept. Plain Python
on an injected clock."""

from __future__ import annotations

from collections.abc import Callable

from campaigns.rules import CampaignError, Pace


class PacingError(CampaignError):
    pass


class Pacer:
    """One trunk's pacer in one dialler process: when may the next call start, given the last starts and the calls
    still up. `clock` gives seconds (time.monotonic in a dialler; the tests move it)."""

    def __init__(self, pace: Pace, clock: Callable[[], float]) -> None:
        self.pace = pace
        self.clock = clock
        self.live = 0
        self._last_start: float | None = None

    def next_start(self) -> float | None:
        """The earliest moment (clock seconds) the next call may start; None while `max_concurrent` calls are up:
        only a call ending makes room."""
        if self.live >= self.pace.max_concurrent:
            return None
        now = self.clock()
        if self._last_start is None:
            return now
        return max(now, self._last_start + self.pace.spacing)

    def delay(self) -> float | None:
        """Seconds to wait before the next start (0: now); None while the trunk is full."""
        at = self.next_start()
        return None if at is None else max(0.0, at - self.clock())

    def may_start(self) -> bool:
        return self.delay() == 0.0

    def start(self) -> None:
        """A call starts now. Raises PacingError if the pace does not allow it yet."""
        if not self.may_start():
            raise PacingError("the trunk's pace does not allow another call yet")
        self._last_start = self.clock()
        self.live += 1

    def ended(self) -> None:
        """A call that was started is over (whatever its outcome), making room for another."""
        if self.live == 0:
            raise PacingError("no call is up on this trunk")
        self.live -= 1
