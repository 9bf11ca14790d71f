"""Rows a history could not write (its disk is full; or its database is away and the
spool's disk with it): kept in memory, in order, and written before the next row the
store writes, so a full disk costs a delay, not a row. The log says it once when rows
begin to be held and once when they are in; a row dropped (over MAX_HELD, or held when
the process ends) is named in the log, never lost silently."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .store import RunRecord

log = logging.getLogger("tui_sandbox.history")

MAX_HELD = 1000


class HeldRows:
    def __init__(self, where: str, cannot: tuple[type[BaseException], ...]) -> None:
        """where: the history, for the log; cannot: what a write raises when it cannot be done now."""
        self.where, self.cannot = where, cannot
        self._rows: dict[str, "RunRecord"] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> "RunRecord | None":
        return self._rows.get(run_id)

    def write(self, write: "Callable[[RunRecord], None]", record: "RunRecord | None" = None) -> int:
        """write(row) for every held row and then record, in order; what cannot be
        written now is held. How many rows are held after."""
        with self._lock:
            held = len(self._rows)
            if record is not None:
                self._rows.pop(record.id, None)
                self._rows[record.id] = record
            try:
                for run_id, row in list(self._rows.items()):
                    try:
                        write(row)
                    except self.cannot:
                        raise
                    except BaseException:
                        del self._rows[run_id]     # not a matter of room: the caller hears why
                        raise
                    del self._rows[run_id]
            except self.cannot as exc:
                if not held:
                    log.warning("the history at %s cannot be written (%s): run %s and those after it are kept "
                                "in memory until it can be", self.where, _first_line(exc), next(iter(self._rows)))
                while len(self._rows) > MAX_HELD:
                    run_id = next(iter(self._rows))
                    del self._rows[run_id]
                    log.error("the history at %s: more than %d runs held, run %s dropped", self.where, MAX_HELD,
                              run_id)
                return len(self._rows)
            if held:
                log.warning("the history at %s can be written again: %d held run(s) written", self.where, held)
            return 0

    def flush(self, write: "Callable[[RunRecord], None]", final: bool = False) -> int:
        """write() the rows held; how many are still held. final: the process ends, and
        those are named in the log as not kept."""
        left = self.write(write)
        if final and left:
            log.error("the history at %s could not be written: %d run(s) not kept: %s", self.where, left,
                      ", ".join(self._rows))
        return left


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
