"""Turning the init's cgroup samples into Stats events: CPU % from deltas, the peak kept."""

from __future__ import annotations

from .events import Stats
from .protocol import Record


class StatsTracker:
    """Follows one phase's samples. CPU % is of one core, as `docker stats` shows it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._last: tuple[int, int] | None = None     # (t_ms, cpu_ns)
        self.peak_memory: int | None = None
        self.throttled_ns: int | None = None          # the cgroup's count, at the last sample

    def sample(self, record: Record) -> Stats:
        t_ms, cpu_ns, memory = record.int("t_ms") or 0, record.int("cpu_ns"), record.int("memory")
        cpu_percent = None
        if cpu_ns is not None and self._last is not None and t_ms > self._last[0]:
            cpu_percent = max(0.0, (cpu_ns - self._last[1]) / ((t_ms - self._last[0]) * 1e6) * 100)
        if cpu_ns is not None:
            self._last = (t_ms, cpu_ns)
        if memory is not None:
            self.peak_memory = max(self.peak_memory or 0, memory)
        if record.int("throttled_ns") is not None:
            self.throttled_ns = record.int("throttled_ns")
        waiting = record.int("stdin_wait")
        return Stats(elapsed_s=t_ms / 1000, cpu_percent=cpu_percent, memory_bytes=memory,
                     pids=record.int("pids"), reading_input=None if waiting is None else waiting == 1)
