"""Live figures of the running container against its limits: CPU, memory (a bar and a
sparkline), PIDs and elapsed time. After the run, the peak memory and duration stay.

Drawn at the rate a person reads them: every figure is a line of fixed size (the panel's
CSS), so a new figure is repainted in place with no layout pass; a figure that reads the
same is not redrawn at all; and the live figures change at most every MIN_REDRAW_S, the
newest sample winning (the memory history still gets every sample's column). A class of
thirty on one host pays for each redraw thirty times."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Static

from runner import Limits, RunResult, Stats
from runner.units import format_size

BAR_WIDTH = 8
SPARK_POINTS = 120
MIN_REDRAW_S = 0.5         # live figures: twice a second at most (the init samples four times)


def meter(value: float, limit: float, width: int = BAR_WIDTH) -> str:
    """A text bar: '██████░░░░' for 60%. Text, so it reads the same over any terminal."""
    fraction = 0.0 if limit <= 0 else max(0.0, min(1.0, value / limit))
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


LEVELS = " ▁▂▃▄▅▆▇█"


class MemoryHistory(Static):
    """Memory over time, one column a sample, drawn against the limit: Textual's
    Sparkline scales between its own lowest and highest points, so 3 MiB of 128 MiB
    would look as full as a run at the limit."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.points: list[int] = []
        self.limit = 1
        self._stale = False        # points added since the last redraw

    def reset(self, limit: int) -> None:
        if self.points or self.limit != max(1, limit):
            self.points, self.limit = [], max(1, limit)
            self.refresh()

    def add(self, value: int) -> None:
        """One more sample; drawn by the next redraw()."""
        self.points = [*self.points, value][-SPARK_POINTS:]
        self._stale = True

    def redraw(self) -> None:
        if self._stale:
            self._stale = False
            self.refresh()      # one row, in place: no layout

    def render(self) -> str:
        width = max(1, self.size.width)
        shown = self.points[-width:]
        bars = "".join(LEVELS[min(8, max(1 if v > 0 else 0, round(v / self.limit * 8)))] for v in shown)
        return bars.rjust(width, LEVELS[0]) if shown else ""


class StatsPanel(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Container"
        self.container_id = ""                   # the current or last run's, short
        self.limits: Limits | None = None
        self._shown: dict[str, str] = {}         # each figure's text on screen
        self._drawn_at = 0.0                      # when the live figures last changed
        self._pending: Stats | None = None        # a sample held back, drawn by a timer
        self._timer = None

    def compose(self) -> ComposeResult:
        # Whose figures these are, in a row of its own rather than the border's title: a
        # new title repaints the whole panel, and a run changes it three times.
        self.figures = {"whose": Label("", id="stat-whose"),
                        "cpu": Label("CPU   -", id="stat-cpu"), "memory": Label("Mem   -", id="stat-memory"),
                        "pids": Label("PIDs  -", id="stat-pids"), "time": Label("Time  -", id="stat-time")}
        self.history = MemoryHistory(id="stat-spark")
        yield self.figures["whose"]
        yield self.figures["cpu"]
        yield self.figures["memory"]
        yield self.history
        yield self.figures["pids"]
        yield self.figures["time"]

    def _set(self, which: str, text: str) -> None:
        if self._shown.get(which) != text:
            self._shown[which] = text
            self.figures[which].update(text, layout=False)     # one row of fixed width (app.tcss)

    def show_whose(self, text: str) -> None:
        """Whose figures: 'running', 'last run', 'from the history'; with the container's
        short id when there is one."""
        self._set("whose", f"{text} · {self.container_id}" if text and self.container_id else text)

    def show_container(self, container_id: str) -> None:
        self.container_id = container_id[:12]
        self.show_whose("running")

    def start(self, limits: Limits) -> None:
        self._pending = None
        self._drawn_at = 0.0
        self.limits = limits
        self.container_id = ""
        self.history.reset(limits.memory)
        self.show_whose("starting")
        self._set("cpu", f"CPU   -  (limit {limits.cpus * 100:g}%)")
        self._set("memory", f"Mem   {meter(0, 1)} 0/{format_size(limits.memory, 'short')}")
        self._set("pids", f"PIDs  {meter(0, 1)} -/{limits.pids}")
        self._set("time", f"Time  {meter(0, 1)} 0.0/{limits.timeout:g} s")

    def update_stats(self, stats: Stats) -> None:
        """A live sample: drawn now, or (within MIN_REDRAW_S of the last) held back and
        drawn when that time is up, unless a newer one replaces it first."""
        if self.limits is None:
            return
        if stats.memory_bytes is not None:
            self.history.add(stats.memory_bytes)      # every sample is a column
        wait = self._drawn_at + MIN_REDRAW_S - time.monotonic()
        if wait <= 0:
            self._draw(stats)
            return
        self._pending = stats
        if self._timer is None:
            self._timer = self.set_timer(wait, self._draw_pending)

    def _draw_pending(self) -> None:
        self._timer = None
        stats, self._pending = self._pending, None
        if stats is not None:
            self._draw(stats)

    def _draw(self, stats: Stats) -> None:
        limits = self.limits
        self._drawn_at = time.monotonic()
        if stats.cpu_percent is not None:
            # Percent of one core, as `docker stats` shows it: 0.5 CPU caps it near 50%.
            self._set("cpu", f"CPU   {stats.cpu_percent:5.1f}% (limit {limits.cpus * 100:g}%)")
        if stats.memory_bytes is not None:
            used, limit = format_size(stats.memory_bytes, "short"), format_size(limits.memory, "short")
            self._set("memory", f"Mem   {meter(stats.memory_bytes, limits.memory)} {used}/{limit}")
        self.history.redraw()
        if stats.pids is not None:
            self._set("pids", f"PIDs  {meter(stats.pids, limits.pids)} {stats.pids}/{limits.pids}")
        self._set("time", f"Time  {meter(stats.elapsed_s, limits.timeout)} "
                          f"{stats.elapsed_s:.1f}/{limits.timeout:g} s")

    def finish(self, result: RunResult) -> None:
        self._pending = None        # the run's own figures win over any sample held back
        limits = result.limits
        self.limits = limits
        if result.cpu_seconds is not None:
            self._set("cpu", f"CPU   {result.cpu_seconds:.2f} s used")
        peak = result.peak_memory_bytes
        if peak is not None:
            used, limit = format_size(peak, "short"), format_size(limits.memory, "short")
            self._set("memory", f"Peak  {meter(peak, limits.memory)} {used}/{limit}")
        self._set("time", f"Took  {meter(result.duration_s, limits.timeout)} "
                          f"{result.duration_s:.2f}/{limits.timeout:g} s")
