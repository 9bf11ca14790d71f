"""The main screen: the program (program.py) in the editor over the verdict banner and
the output with its input line, the limits and the container's figures beside them,
the key bar below. It shows each run as it goes and as it ends (`show_result`, the one
way for every finished run), and prepares the next (its limits, its input, a spare)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Switch, TextArea

from runner import (
    Blocked,
    EngineInfo,
    Finished,
    LimitError,
    Limits,
    Output,
    Phase,
    Queued,
    RunResult,
    SandboxError,
    SourceError,
    Started,
    Stats,
)
from runner.runtimes import runtime

from ...history.records import when
from ...history.store import RunRecord
from ...settings import environment
from ..program import Program
from ..widgets.footer import KeyBar
from ..widgets.limits import LimitsPanel
from ..widgets.output_box import OutputBox
from ..widgets.stats import StatsPanel
from ..widgets.stdin import StdinLine
from ..widgets.verdict import VerdictBanner
from .prepared_input import PreparedInput

if TYPE_CHECKING:
    from ...experiments import Experiment
    from ..app import SandboxApp

READY_HINT = "ctrl+r runs the program · F4 picks an experiment"
CUT_NOTE = "— the output was cut here: the program printed past its cap —"

# While a run goes, the footer leaves these out to make room for kill and ctrl+d (the
# keys still answer: a second run is refused, and says so).
HIDDEN_WHILE_RUNNING = {"run", "both_ways", "experiments", "open"}


class MainScreen(Screen):
    """The app's one full screen. Its footer lists the keys in the app's own order (the
    focused widget's own keys, such as ctrl+d in the input line, first), not in the
    order the editor happens to bind some of the same keys; and only those that apply."""

    app: SandboxApp
    # Textual repaints the whole screen on every focus change (a run that reads its input
    # makes two). What a focus change shows is redrawn without it: the widgets that gain and
    # lose the focus, and those styled by :focus-within, restyle and repaint themselves.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        if getattr(self.app, "runs", None) is not None and self.app.runs.running:
            bindings = {key: active for key, active in bindings.items()
                        if active.binding.action not in HIDDEN_WHILE_RUNNING}
        order = {binding.key: i for i, binding in enumerate(type(self.app).BINDINGS)}
        return dict(sorted(bindings.items(), key=lambda item: order.get(item[0], -1)))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prepared: PreparedInput | None = None      # F8: the next runs' input, or typed live
        self._waiting = False       # the running program is blocked reading its input

    def compose_main(self) -> ComposeResult:
        """The screen's widgets, composed by the app (app.py says why)."""
        app = self.app
        self.program = Program(self, app.languages, self.prepare_next_run)
        self.editor = self.program.editor
        self.banner = VerdictBanner(id="verdict")
        self.output_box = OutputBox(id="output-box")
        self.editor.type_ahead = self.output_box.type_ahead
        self.output_view = self.output_box.view
        self.limits_panel = LimitsPanel(app.start_limits, id="limits")
        self.stats_panel = StatsPanel(id="stats")
        with Horizontal(id="topbar"):
            yield self.program.label
            # The palette's key lives here: the footer is full at 80 columns.
            yield Label("[b]^p[/b] more", id="palette-hint")
            yield self.program.picker
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield self.editor
                yield self.banner
                yield self.output_box
            with Vertical(id="side"):
                yield self.limits_panel
                yield self.stats_panel
        yield KeyBar()

    def start(self) -> None:
        """Once the widgets are mounted: the command line's program, and the engine."""
        self.banner.idle(READY_HINT)
        self.editor.cursor_blink = self.output_box.stdin_line.cursor_blink = environment().blinks  # (serve.py)
        self.program.open_at_start(self.app.start_file, self.app.start_language)
        self.editor.focus()
        if self.app.startup_problem is not None:
            self.notify(str(self.app.startup_problem), title="Languages", severity="error", timeout=10)
        self.app.runs.connect()

    # --- the program and the next run ----------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def show_modified(self) -> None:
        self.program.show_name()

    @on(Select.Changed, "#language")
    def switch_language(self, event: Select.Changed) -> None:
        self.program.picked(event)

    @on(Input.Changed, "#limits Input")
    @on(Switch.Changed, "#limits Switch")
    @on(Select.Changed, "#limits Select")
    def prepare_next_run(self) -> None:
        """The language or a limit changed: the engine may ready a container for them."""
        try:
            limits = self.limits_panel.limits()
        except LimitError:
            limits = None
        self.app.runs.warming.prepare(self.program.language, limits)

    def next_run_settings(self) -> tuple[str, Limits, str | bytes | None] | None:
        """The source, limits and prepared input of the next run, or None (and why, told)."""
        try:
            limits = self.limits_panel.limits()
        except LimitError as exc:
            self.notify(str(exc), title="Fix the limits first", severity="error", timeout=8)
            return None
        source = self.editor.text
        if not source.strip():
            self.notify("The editor is empty: type a program, or press F4 for an experiment.",
                        severity="warning")
            return None
        stdin = None
        if self.prepared is not None:
            try:
                stdin = self.prepared.data()
            except SourceError as exc:
                self.notify(str(exc), title="The prepared input (F8)", severity="error", timeout=8)
                return None
        return source, limits, stdin

    def prepare_input(self, prepared: PreparedInput | None) -> None:
        """F8's answer: the next runs read this, or (None) what is typed as they run."""
        self.prepared = prepared
        self.limits_panel.show_input(prepared.describe() if prepared else "typed as it runs")

    def show_experiment(self, experiment: Experiment) -> None:
        self.program.load(experiment.source(), experiment.language)
        self.editor.focus()
        if not self.app.runs.running:
            self.banner.show_message(experiment.title.upper(),
                                     ["ctrl+r runs it", f"Expect: {experiment.expect}",
                                      f"Change it: {experiment.toggle}"])

    def offer_engine(self, info: EngineInfo) -> None:
        if self.limits_panel.is_attached:       # else the app closed while the worker connected
            self.limits_panel.offer_engine(info)
            self.prepare_next_run()       # the limits are now checked against what the engine gives

    def show_engine_failure(self, error: SandboxError) -> None:
        if not self.banner.is_attached:
            return
        if not self.app.runs.running:
            self.banner.failed(error)
        self.notify(str(error), title="No sandbox engine", severity="error", timeout=15)

    # --- a run ---------------------------------------------------------------------------

    def show_run_starting(self, limits: Limits, interactive: bool = False) -> None:
        """The screen ready for a run under these limits (interactive: typed input)."""
        self.output_box.start(interactive, seen_reading=runtime(limits.runtime).sees_input_wait)
        self.banner.running(limits)
        self.stats_panel.start(limits)
        self._waiting = False
        self.app.refresh_bindings()       # kill shows in the footer while a run goes

    def show_run_ended(self) -> None:
        """The input line closes; the focus it had goes back to the editor."""
        self._waiting = False
        had_focus = self.app.focused is None or self.app.focused is self.output_box.stdin_line
        if had_focus and len(self.app.screen_stack) == 1:
            # At once, before the input line is disabled: else its blur moves the focus
            # to the next widget first, one more focus change (and restyle) a run.
            self.set_focus(self.editor)
        self.output_box.end()
        self.app.refresh_bindings()

    def show_event(self, event) -> None:
        """One engine event of the current run."""
        runs = self.app.runs
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
        self.app.runs.end()
        self.show_run_ended()
        self.banner.failed(error)
        self.stats_panel.show_whose("")
        self.notify(str(error), title="Cannot run", severity="error", timeout=10)

    def show_result(self, result: RunResult, *, replay: bool = False, verdict: bool = True,
                    figures: str | None = "last run") -> None:
        """A finished run on screen, the one way for all: the run that just streamed, a
        side of F6, a run reopened from the history. Replayed, its output is written
        here (it did not stream in); verdict puts its verdict in the banner; figures
        says whose figures the side panel shows (None: leave the panel alone)."""
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

    def reopen(self, record: RunRecord) -> None:
        """An old run back on screen: its code in the editor, its result in the panes,
        its limits (and its input) for the next run."""
        self.program.load(record.source, record.language)
        self.limits_panel.set_limits(Limits.from_dict(record.limits))
        self.output_view.clear()
        result = record.result()
        if result is None:
            self.banner.failed(SandboxError(record.kill_reason))
        else:
            self.show_result(result, replay=True, figures="from the history")
        self.output_view.note(f"— reopened from the history: the run of {when(record.finished_at)} —")
        if record.stdin:
            # Its input comes back too, so ctrl+r runs it again as it ran (F8 changes it).
            self.prepare_input(PreparedInput(text=record.stdin))
            self.output_view.note(f"— its input is ready for the next run: {self.prepared.describe()} (F8) —")
        self.editor.focus()

    # --- the program's standard input ----------------------------------------------------

    @on(Input.Submitted, "#stdin")
    def send_line(self, event: Input.Submitted) -> None:
        event.stop()
        if self.app.runs.running:
            self.app.runs.input.give(self.output_box.take_line(event.value))

    @on(StdinLine.EndOfInput, "#stdin")
    def end_input(self, event: StdinLine.EndOfInput) -> None:
        if not self.app.runs.running:
            return
        if event.pending:
            self.app.runs.input.give(event.pending)
        self.app.runs.input.give(None)        # end of file
        self.output_box.close_input(event.pending)
        self.editor.focus()

    def show_waiting(self, waiting: bool) -> None:
        """The program is blocked reading its input (or no longer): banner and frame say so."""
        if waiting == self._waiting or not self.app.runs.running:
            return
        self._waiting = waiting
        limits = self.app.runs.limits or Limits()
        if waiting:
            self.output_box.open_input()
            self.banner.waiting(limits, closed=self.output_box.input_closed)
        else:
            self.banner.running(limits)
        self.output_box.show_waiting(waiting)
