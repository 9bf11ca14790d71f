"""A user's rate of runs, checked with the `limits` library: in this process's memory
for one server, or in a shared storage (the cluster's Redis) so that the rate holds
whichever front a request came to."""

from __future__ import annotations

import time

from limits import parse as parse_rate
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from .requests import RateLimited


class RateLimit:
    def __init__(self, rate: str, storage: Storage | None = None) -> None:
        self.rate = rate
        self._item = parse_rate(rate)
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def hit(self, user: str) -> None:
        """One more run of user's; raises RateLimited (with its Retry-After) beyond the rate."""
        if not self._limiter.hit(self._item, user):
            reset = self._limiter.get_window_stats(self._item, user).reset_time
            error = RateLimited(f"{user} has asked for more than {self._item} runs",
                                "wait a little before the next run")
            error.retry_after = max(1, round(reset - time.time()))
            raise error
