"""A client-side request limiter per QBO company (sliding windows).

QBO allows 10 requests/s and 500/min per realm (40 batch requests/min); going
over costs a 429 and a 60 s wait. Waiting a little before sending is cheaper.
The limiter only sees this process: several Odoo workers each keep their own,
which is why the defaults sit well under QBO's numbers.
"""

import collections
import threading
import time

from . import const


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit, period):
        self.limit = limit
        self.period = period
        self._times = collections.deque()

    def wait_time(self, now):
        """Return how long to wait from ``now`` before one more event fits (0 if it fits)."""
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.period - now

    def record(self, now):
        self._times.append(now)


class RateLimiter:
    """Blocks (via ``sleep``) until a request fits every window; thread-safe.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock.
    ``waits`` counts the times the limiter had to hold a request back.
    """

    def __init__(self, per_second=const.RATE_PER_SECOND, per_minute=const.RATE_PER_MINUTE,
                 batch_per_minute=const.BATCH_RATE_PER_MINUTE, clock=time.monotonic,
                 sleep=time.sleep):
        self._windows = [SlidingWindow(limit, period)
                         for limit, period in ((per_second, 1.0), (per_minute, 60.0)) if limit]
        self._batch_window = SlidingWindow(batch_per_minute, 60.0) if batch_per_minute else None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waits = 0
        self.waited_seconds = 0.0

    def acquire(self, batch=False):
        """Wait until one more request (a /batch one if ``batch``) is allowed, then count it."""
        windows = self._windows + ([self._batch_window] if batch and self._batch_window else [])
        while True:
            with self._lock:
                now = self._clock()
                delay = max([w.wait_time(now) for w in windows] + [0.0])
                if delay <= 0:
                    for window in windows:
                        window.record(now)
                    return
                self.waits += 1
                self.waited_seconds += delay
            # Sleep outside the lock so other threads can compute their own wait.
            self._sleep(delay)


_limiters = {}
_limiters_lock = threading.Lock()


def limiter_for(realm_id):
    """Return the process-wide limiter of one QBO company (created on first use)."""
    with _limiters_lock:
        limiter = _limiters.get(realm_id)
        if limiter is None:
            limiter = _limiters[realm_id] = RateLimiter()
        return limiter
