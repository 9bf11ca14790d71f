"""The broker's outages, as the cluster's processes tell them. A front refuses new runs
with a 503 that names Redis (BrokerDown: the HTTP front answers it as it answers any
refusal), and a front or a worker says on stderr once that the broker stopped
answering and once that it is back, rather than a traceback for every call that failed.

    outage = Outage(url, "tui-sandbox worker w1", "its runs go on; ...")
    try: await call(); outage.answered()
    except Exception as exc: outage.failed(exc) or log.debug(...)
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

from ..service.requests import Refused
from .broker import _first_line, _safe

log = logging.getLogger("tui_sandbox.cluster")


class BrokerDown(Refused):
    """The broker does not answer now: a run cannot be queued (or a read made) until it does."""
    status = 503
    retry_after = 5


def is_outage(exc: BaseException) -> bool:
    """The broker cannot be reached (stopped, restarting, the network), as opposed to a
    refusal of one call."""
    from redis.exceptions import ConnectionError, TimeoutError

    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def describe(url: str, exc: BaseException | None = None) -> str:
    """'the broker (Redis at redis://host:6379/0) does not answer (why)'"""
    why = f" ({_first_line(exc)})" if exc is not None else ""
    return f"the broker (Redis at {_safe(url)}) does not answer{why}"


@contextmanager
def refused_while_down(url: str):
    """An outage of the broker within, raised as BrokerDown."""
    try:
        yield
    except Exception as exc:
        if not is_outage(exc):
            raise
        raise BrokerDown(describe(url, exc), "runs under way go on; ask again in a moment, once Redis is "
                         "back (the operator restarts redis-server)") from None


class Outage:
    """Whether the broker answers, as one process sees it; `meanwhile` says what that
    process does while it does not."""

    def __init__(self, url: str, who: str, meanwhile: str) -> None:
        self.url, self.who, self.meanwhile = url, who, meanwhile
        self.since: float | None = None         # time.monotonic() of the first failure

    @property
    def lasted(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since

    def failed(self, exc: BaseException) -> bool:
        """A call to the broker failed: False if that was no outage (the caller's to say)."""
        if not is_outage(exc):
            return False
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s: %s: %s", self.who, describe(self.url, exc), self.meanwhile)
        return True

    def answered(self) -> None:
        if self.since is not None:
            log.warning("%s: the broker answers again (after %.0f s)", self.who, self.lasted)
            self.since = None
