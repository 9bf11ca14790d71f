"""The verdict banner: what happened to the last run, in one big word and the engine's
own sentence, with the limits it ran under. Engine failures show here too, with the fix.

A run changes the banner several times (running, each phase, the verdict): a change that
takes as many rows as the banner has is painted in place, with no layout pass of the
whole screen, and one that says what the banner says already is not drawn at all."""

from __future__ import annotations

from rich.text import Text
from textual.css.scalar import Unit
from textual.visual import visualize

from runner import Limits, RunResult, SandboxError, count_line
from runner.units import format_size
from runner.verdicts import figures, headline

from .tinted import Tinted


def short_limits(limits: Limits) -> str:
    return (f"{format_size(limits.memory)} · {limits.cpus:g} CPU · {limits.pids} PIDs · "
            f"{limits.timeout:g} s · net {'on' if limits.network else 'off'} · "
            f"{'read-only' if limits.read_only else 'writable'} · {limits.runtime}")


class VerdictBanner(Tinted):
    plain = ""     # what the banner says, as text: for tests and screen readers of logs

    def _show(self, kind: str, title: str, lines: list[str]) -> None:
        text = Text()
        text.append(f" {title} ", style="bold reverse")
        for i, line in enumerate(lines):
            text.append(("  " if i == 0 else "\n") + line)
        if kind == self.kind and text.plain == self.plain:
            return
        # A message (READY, an experiment) may take fewer rows than a run's banner keeps.
        self.set_class(kind == "idle", "-idle")
        self.tint(kind)
        self.plain = text.plain
        self.update(text, layout=not self._fits(text))

    def _fits(self, text: Text) -> bool:
        """The text takes the rows the banner has now (at its width, up to its max-height)."""
        width, height = self.content_size
        if not self.is_mounted or not width or not height:
            return False
        rows = visualize(self, text, markup=False).get_height(self.styles, width)
        least, most = self.styles.min_height, self.styles.max_height
        if least is not None and least.unit == Unit.CELLS:
            rows = max(rows, int(least.value))
        if most is not None and most.unit == Unit.CELLS:
            rows = min(rows, int(most.value))
        return rows == height

    def show_message(self, title: str, lines: list[str]) -> None:
        self._show("idle", title, lines)

    def idle(self, message: str) -> None:
        self._show("idle", "READY", [message])

    def queued(self, message: str) -> None:
        """The server has the run in its queue (its place in line)."""
        self._show("queued", "QUEUED…", [message, "the server runs a few at a time, in turn"])

    def running(self, limits: Limits, phase: str = "running") -> None:
        self._show("running", phase.upper() + "…", ["ctrl+k kills it", short_limits(limits)])

    def waiting(self, limits: Limits, closed: bool = False) -> None:
        """The program is blocked reading its standard input: it waits for the learner."""
        how = ("its input is closed: it gets end of file" if closed
               else "type in the line under the output: enter sends it, ctrl+d ends the input")
        self._show("waiting", "WAITING FOR INPUT", [how, f"(its {limits.timeout:g} s timeout still holds)"])

    def result(self, result: RunResult) -> None:
        walls = count_line(result.blocked)
        lines = [figures(result) + (f" · {walls}" if walls else ""), result.kill_reason]
        if result.passed is not None:       # an expected output was given (F8)
            lines.append("PASSED: the output is as expected" if result.passed
                         else f"FAILED: {result.first_difference}")
        self._show(result.verdict.value, headline(result), [*lines, short_limits(result.limits)])

    def failed(self, error: SandboxError) -> None:
        lines = [error.message]
        if error.fix:
            lines.append(f"fix: {error.fix}")
        self._show("failed", "CANNOT RUN", lines)
