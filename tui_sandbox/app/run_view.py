"""A run on the main screen: the verdict banner over the output with its input line, and
the container's figures beside them. It shows each run as it starts, each engine event
as it comes, and each end (`show_result`, the one way for every finished run: the run
that just streamed, a side of F6, a run reopened from the history), and hands what the
learner types to the run. The main screen lays its widgets out and passes it the run
controller's messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner import Blocked, Event, Finished, Limits, Output, Phase, Queued, RunResult, SandboxError, Started, Stats
from runner.runtimes import runtime

from ..history.records import when
from .widgets.output_box import OutputBox
from .widgets.stats import StatsPanel
from .widgets.verdict import VerdictBanner

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..history.store import RunRecord
    from .run_controller import RunController
    from .widgets.editor import CodeEditor

CUT_NOTE = "— the output was cut here: the program printed past its cap —"


class RunView:
    """On the UI thread, for the screen that lays its widgets out."""

    def __init__(self, screen: Screen, runs: RunController, editor: CodeEditor) -> None:
        self.screen = screen
        self.runs = runs
        self.editor = editor          # where the focus goes back when a run ends
        self.banner = VerdictBanner(id="verdict")
        self.output_box = OutputBox(id="output-box")
        self.output_view = self.output_box.view
        self.stats_panel = StatsPanel(id="stats")
        self._waiting = False         # the running program is blocked reading its input

    def refuse_if_running(self) -> bool:
        """True, and said, while a run goes: a second one waits for it."""
        if self.runs.running:
            self.screen.notify("A run is already going: wait for it, or ctrl+k kills it.",
                               title="Already running", severity="warning")
        return self.runs.running

    def show_run_starting(self, limits: Limits, interactive: bool = False) -> None:
        """Ready for a run under these limits (interactive: typed input)."""
        self.output_box.start(interactive, seen_reading=runtime(limits.runtime).sees_input_wait)
        self.banner.running(limits)
        self.stats_panel.start(limits)
        self._waiting = False
        self.screen.app.refresh_bindings()       # kill shows in the footer while a run goes

    def show_run_ended(self) -> None:
        """The input line closes; the focus it had goes back to the editor."""
        self._waiting = False
        app = self.screen.app
        had_focus = app.focused is None or app.focused is self.output_box.stdin_line
        if had_focus and len(app.screen_stack) == 1:
            # At once, before the input line is disabled: else its blur moves the focus
            # to the next widget first, one more focus change (and restyle) a run.
            self.screen.set_focus(self.editor)
        self.output_box.end()
        app.refresh_bindings()

    def show_event(self, event: Event) -> None:
        """One engine event of the current run."""
        runs = self.runs
        match event:
            case Queued(message=text):
                self.banner.queued(text)
            case Started(container_id=container_id):
                self.stats_panel.show_container(container_id)
                if runs.running:
                    self.banner.running(runs.limits or Limits())
            case Phase(name=name):
                if runs.running:
                    self.banner.running(runs.limits or Limits(), name)
            case Output(stream=stream, text=text):
                self.output_view.write(stream, text)
            case Blocked() as wall:
                self.output_view.show_wall(wall, runs.limits or Limits())
            case Stats() as stats:
                self.stats_panel.update_stats(stats)
                if stats.reading_input is not None:
                    self.show_waiting(stats.reading_input)
            case Finished(result=result):
                runs.end(result)
                self.show_run_ended()
                self.show_result(result)

    def show_failure(self, error: SandboxError) -> None:
        """The current run could not run at all."""
        self.runs.end()
        self.show_run_ended()
        self.banner.failed(error)
        self.stats_panel.show_whose("")
        self.screen.notify(str(error), title="Cannot run", severity="error", timeout=10)

    def show_engine_failure(self, error: SandboxError) -> None:
        if not self.banner.is_attached:
            return
        if not self.runs.running:
            self.banner.failed(error)
        self.screen.notify(str(error), title="No sandbox engine", severity="error", timeout=15)

    def show_old_run(self, record: RunRecord) -> None:
        """A run from the history (F7): its output replayed, its verdict and figures."""
        self.output_view.clear()
        result = record.result()
        if result is None:
            self.banner.failed(SandboxError(record.kill_reason))
        else:
            self.show_result(result, replay=True, figures="from the history")
        self.output_view.note(f"— reopened from the history: the run of {when(record.finished_at)} —")

    def show_result(self, result: RunResult, *, replay: bool = False, verdict: bool = True,
                    figures: str | None = "last run") -> None:
        """A finished run on screen. Replayed, its output is written here (it did not
        stream in); verdict puts its verdict in the banner; figures says whose figures
        the side panel shows (None: leave the panel alone)."""
        if replay:
            self.output_view.replay(result)
        self.output_view.show_walls(result, say_unseen=not replay)
        if verdict:
            self.banner.result(result)
        if figures is not None:
            self.stats_panel.finish(result)
            self.stats_panel.show_whose(figures)
        if result.truncated:
            self.output_view.note(CUT_NOTE)

    # --- the program's standard input ----------------------------------------------------

    def send_line(self, value: str) -> None:
        """enter in the input line: the line goes to the running program."""
        if self.runs.running:
            self.runs.input.give(self.output_box.take_line(value))

    def end_input(self, pending: str) -> None:
        """ctrl+d in the input line: what is on it goes, then end of file."""
        if not self.runs.running:
            return
        if pending:
            self.runs.input.give(pending)
        self.runs.input.give(None)        # end of file
        self.output_box.close_input(pending)
        self.editor.focus()

    def show_waiting(self, waiting: bool) -> None:
        """The program is blocked reading its input (or no longer): banner and frame say so."""
        if waiting == self._waiting or not self.runs.running:
            return
        self._waiting = waiting
        limits = self.runs.limits or Limits()
        if waiting:
            self.output_box.open_input()
            self.banner.waiting(limits, closed=self.output_box.input_closed)
        else:
            self.banner.running(limits)
        self.output_box.show_waiting(waiting)
