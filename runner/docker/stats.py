"""Docker's own stats stream, for runtimes whose guest cannot read its cgroup."""

from __future__ import annotations

import threading
from typing import Any

from ..events import Stats
from .client import EngineClient


class DockerStatsFeed:
    """Docker's own stats stream, for runtimes (gVisor) whose guest cannot read the
    container's cgroup. About one frame a second, the first after about a second: the
    init's samples still set the pace, and this fills in what they lack."""

    def __init__(self, api: EngineClient, container_id: str) -> None:
        self._api, self._id = api, container_id
        self._lock = threading.Lock()
        self.memory: int | None = None
        self.peak: int | None = None
        self.pids: int | None = None
        self.cpu_percent: float | None = None
        self._thread = threading.Thread(target=self._follow, daemon=True, name="tui-sandbox-stats")

    def start(self) -> "DockerStatsFeed":
        self._thread.start()
        return self

    def _follow(self) -> None:
        try:
            for frame in self._api.stats(self._id, stream=True):
                self._take(frame)
        except Exception:  # noqa: BLE001 - the stream ends with the container, one way or another
            return

    def _take(self, frame: dict[str, Any]) -> None:
        memory_stats = frame.get("memory_stats") or {}
        usage = memory_stats.get("usage")
        stats = memory_stats.get("stats") or {}
        inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
        with self._lock:
            if usage is not None:
                self.memory = max(0, usage - inactive)
                self.peak = max(self.peak or 0, memory_stats.get("max_usage") or 0, self.memory)
            self.pids = (frame.get("pids_stats") or {}).get("current", self.pids)
            self.cpu_percent = docker_cpu_percent(frame)

    def fill(self, stats: Stats) -> Stats:
        with self._lock:
            return Stats(elapsed_s=stats.elapsed_s,
                         cpu_percent=stats.cpu_percent if stats.cpu_percent is not None else self.cpu_percent,
                         memory_bytes=stats.memory_bytes if stats.memory_bytes is not None else self.memory,
                         pids=stats.pids if stats.pids is not None else self.pids,
                         reading_input=stats.reading_input)


def docker_cpu_percent(frame: dict[str, Any]) -> float | None:
    """As the docker CLI computes it: cpu delta / system delta * online CPUs * 100."""
    cpu, pre = frame.get("cpu_stats") or {}, frame.get("precpu_stats") or {}
    try:
        cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system_delta = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    online = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or [1])
    return cpu_delta / system_delta * online * 100 if system_delta > 0 else None
