"""Sliding-window counters per client address: how join codes are kept from
being guessed cheaply, and sessions from being created in bulk.

A join code is 6 characters of 31 (about 887 million codes); at 10 wrong
tries a minute per address, finding one live class among a few takes years.
The counters live in memory: a restart forgets them, which costs an attacker
a restart they cannot cause.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindow:
    """At most ``limit`` events per ``seconds`` for each key."""

    #: Forget idle keys once this many are tracked (a scan of many addresses must not grow memory).
    PRUNE_AT = 10_000

    def __init__(self, limit: int, seconds: float, clock=time.monotonic):
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, key: str) -> int:
        """0 if ``key`` may act now, else the whole seconds until it may."""
        with self._lock:
            events = self._recent(key)
            if len(events) < self.limit:
                return 0
            return max(1, math.ceil(events[0] + self.seconds - self.clock()))

    def hit(self, key: str) -> None:
        with self._lock:
            if len(self._events) >= self.PRUNE_AT:
                for stale in [k for k in self._events if not self._recent(k)]:
                    del self._events[stale]
            self._recent(key).append(self.clock())

    def _recent(self, key: str) -> deque:
        events = self._events.setdefault(key, deque())
        horizon = self.clock() - self.seconds
        while events and events[0] <= horizon:
            events.popleft()
        return events
