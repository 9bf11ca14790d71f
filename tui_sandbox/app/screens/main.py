"""The main screen: the program (program.py) in the editor over the run (run_view.py:
the verdict banner, the output with its input line), the limits and the container's
figures beside them, the key bar below. It prepares the next run (its limits, its
input, a spare) and hands each run to the run view."""

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

from runner import EngineInfo, LimitError, Limits, SandboxError, SourceError

from ...history.records import when
from ...history.store import RunRecord
from ...settings import environment
from ..messages import EngineFailed, EngineReady, HistoryFailed, PairSide, RunEvent, RunFailed
from ..program import Program
from ..run_view import RunView
from ..widgets.footer import KeyBar
from ..widgets.limits import LimitsPanel
from ..widgets.stdin import StdinLine
from .prepared_input import PreparedInput

if TYPE_CHECKING:
    from ...experiments import Experiment
    from ..app import SandboxApp
    from ..run_controller import RunController

READY_HINT = "ctrl+r runs the program · F4 picks an experiment"

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
        if self.runs.running:
            bindings = {key: active for key, active in bindings.items()
                        if active.binding.action not in HIDDEN_WHILE_RUNNING}
        order = {binding.key: i for i, binding in enumerate(type(self.app).BINDINGS)}
        return dict(sorted(bindings.items(), key=lambda item: order.get(item[0], -1)))

    def __init__(self, runs: RunController, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs = runs
        self.prepared: PreparedInput | None = None      # F8: the next runs' input, or typed live

    def compose_main(self) -> ComposeResult:
        """The screen's widgets, composed by the app (app.py says why)."""
        app = self.app
        self.program = Program(self, app.languages, self.prepare_next_run)
        self.editor = self.program.editor
        self.view = RunView(self, self.runs, self.editor)
        # The run's widgets, by their names here too: the screen lays them out.
        self.banner, self.output_box, self.output_view = self.view.banner, self.view.output_box, self.view.output_view
        self.editor.type_ahead = self.output_box.type_ahead
        self.limits_panel = LimitsPanel(app.start_limits, id="limits")
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
                yield self.view.stats_panel
        yield KeyBar()

    def start(self) -> None:
        """Once the widgets are mounted: the command line's program, and the engine."""
        self.banner.idle(READY_HINT)
        self.editor.cursor_blink = self.output_box.stdin_line.cursor_blink = environment().blinks  # (serve.py)
        self.program.open_at_start(self.app.start_file, self.app.start_language)
        self.editor.focus()
        if self.app.startup_problem is not None:
            self.notify(str(self.app.startup_problem), title="Languages", severity="error", timeout=10)
        self.runs.connect(self)

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
        self.runs.warming.prepare(self.program.language, limits)

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
        if not self.runs.running:
            self.banner.show_message(experiment.title.upper(),
                                     ["ctrl+r runs it", f"Expect: {experiment.expect}",
                                      f"Change it: {experiment.toggle}"])

    def offer_engine(self, info: EngineInfo) -> None:
        if self.limits_panel.is_attached:       # else the app closed while the worker connected
            self.limits_panel.offer_engine(info)
            self.prepare_next_run()       # the limits are now checked against what the engine gives

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
            self.view.show_result(result, replay=True, figures="from the history")
        self.output_view.note(f"— reopened from the history: the run of {when(record.finished_at)} —")
        if record.stdin:
            # Its input comes back too, so ctrl+r runs it again as it ran (F8 changes it).
            self.prepare_input(PreparedInput(text=record.stdin))
            self.output_view.note(f"— its input is ready for the next run: {self.prepared.describe()} (F8) —")
        self.editor.focus()

    # --- what the run controller posts (messages.py) ------------------------------------

    def on_engine_ready(self, message: EngineReady) -> None:
        self.offer_engine(message.info)

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.view.show_engine_failure(message.error)

    def on_run_event(self, message: RunEvent) -> None:
        if self.runs.is_current(message.run_id):      # else a late message of an earlier run
            self.view.show_event(message.event)

    def on_run_failed(self, message: RunFailed) -> None:
        if self.runs.is_current(message.run_id):
            self.view.show_failure(message.error)

    def on_pair_side(self, message: PairSide) -> None:
        self.app.both_ways.side_ended(message)

    def on_history_failed(self, message: HistoryFailed) -> None:
        self.notify(message.text, title="History", severity="warning", timeout=8)

    # --- the program's standard input ----------------------------------------------------

    @on(Input.Submitted, "#stdin")
    def send_line(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.send_line(event.value)

    @on(StdinLine.EndOfInput, "#stdin")
    def end_input(self, event: StdinLine.EndOfInput) -> None:
        self.view.end_input(event.pending)
