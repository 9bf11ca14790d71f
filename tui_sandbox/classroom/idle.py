"""The idle timeout (--idle-timeout), the same on both fronts: a session with no key pressed
for that long ends, its app stopped. Each front tells the student in its own words (over
SSH: connect again; in the browser: reload the page)."""

from __future__ import annotations

import asyncio
import time
from typing import Callable


async def until_idle(last_input: Callable[[], float], timeout_s: float) -> None:
    """Return once no key has come for timeout_s; last_input() is the monotonic time of the
    last one. It wakes at least every 30 s: a key meanwhile moves the deadline on."""
    while True:
        left = last_input() + timeout_s - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 30.0) + 0.05)
