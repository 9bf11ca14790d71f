"""The main screen: the program (program.py) in the editor over the run (run_view.py:
the verdict banner, the output with its input line), the limits of the next run
(next_run.py) and the container's figures beside them, the key bar below.

It owns its keys (the App's answer over every dialog: kill, the limit toggles, the demo,
quit) and hears its workers: the run controller, F6's pair (both_ways.py), the report's
worker and the teacher's demo each post their messages (messages.py) here, and it hands
each to the part that shows it. None of them knows the App; the App composes this screen
and gives it what is app-wide (the run controller, the languages, the experiments, the
remembered choices)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Switch, TextArea

from runner import Language, Limits, SandboxError

from ..demo import DemoFeed, SharedProgram
from ..messages import (
    DemoPushed,
    EngineFailed,
    EngineReady,
    HistoryFailed,
    PairSide,
    ReportDone,
    ReportProgress,
    RunEvent,
    RunFailed,
)
from ..next_run import NextRun, PreparedInput
from ..program import Program
from ..report_worker import ReportWorker
from ..run_view import RunView
from ..widgets.footer import KeyBar
from ..widgets.stdin import StdinLine
from .both_ways import BothWays, BothWaysScreen
from .dialogs import ask_for_a_path, ask_for_a_report, ask_for_input, unless_changes_are_kept
from .experiments import ExperimentsScreen
from .history import HistoryScreen
from .open_file import OpenFileScreen
from .report import ReportScreen
from .save import SaveAsScreen

if TYPE_CHECKING:
    from pathlib import Path

    from ...experiments import Experiment
    from ...history.store import RunRecord
    from ..run_controller import RunController

READY_HINT = "ctrl+r runs the program · F4 picks an experiment"

# While a run goes, the footer leaves these out to make room for kill and ctrl+d (the
# keys still answer: a second run is refused, and says so).
HIDDEN_WHILE_RUNNING = {"run", "both_ways", "experiments", "open"}
# The footer's order, this screen's keys and the App's together (by their ids).
FOOTER_ORDER = ("run", "run-f5", "kill", "save", "open", "network", "read-only", "experiments", "both-ways",
                "history", "input", "demo", "quit")


@dataclass(frozen=True)
class Start:
    """What the main screen opens with: the languages (and why the learner's file of
    them could not be read), the command line's file, language and limits, and whether
    the text cursor blinks (TUI_SANDBOX_CURSOR_BLINK)."""
    languages: dict[str, Language]
    problem: SandboxError | None = None
    file: str | None = None
    language: str | None = None
    limits: Limits = field(default_factory=Limits)
    blinks: bool = True


class MainScreen(Screen):
    """The app's one full screen. Its footer lists the keys in the app's own order (the
    focused widget's own keys, such as ctrl+d in the input line, first), not in the
    order the editor happens to bind some of the same keys; and only those that apply."""

    # Priority bindings fire even while the editor has focus. Plain ctrl+letter and
    # F-keys only: they survive SSH and every terminal. Short words: all of them fit
    # the footer at 80 columns.
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True, id="run"),
        Binding("f5", "run", "Run", show=False, priority=True, id="run-f5"),
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("ctrl+o", "open", "Open", priority=True, id="open"),
        Binding("f4", "experiments", "Try", priority=True, id="experiments", tooltip="Experiments"),
        Binding("f6", "both_ways", "Both", priority=True, id="both-ways"),
        Binding("f7", "history", "History", priority=True, id="history"),
        Binding("f8", "prepared_input", "Input", priority=True, id="input"),
    ]
    OWN_ACTIONS = frozenset(binding.action for binding in BINDINGS)
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
        order = {binding_id: i for i, binding_id in enumerate(FOOTER_ORDER)}
        return dict(sorted(bindings.items(), key=lambda item: order.get(item[1].binding.id or "", -1)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Over a dialog none of this screen's keys answers, nor shows in the footer behind
        # it: ctrl+s inside the save dialog must not open a second one.
        return len(self.app.screen_stack) == 1 or action not in self.OWN_ACTIONS

    def __init__(self, runs: RunController, start: Start, experiments: list[Experiment], *, both_ways: str,
                 remember: Callable[..., None], on_server: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs = runs
        self.start_with = start
        self.experiments = experiments      # the app's (the teacher's pushes join them)
        self.remember = remember            # remember(choice=value): into the app's settings
        self.program = Program(self, start.languages, self.prepare_next_run)
        self.editor = self.program.editor
        self.view = RunView(self, runs, self.editor)
        self.next_run = NextRun(self, self.program, runs, start.limits)
        # The widgets it lays out, by their names here too.
        self.banner, self.output_box, self.output_view = self.view.banner, self.view.output_box, self.view.output_view
        self.limits_panel = self.next_run.limits_panel
        self.editor.type_ahead = self.output_box.type_ahead
        # A blinking cursor redraws twice a second, for ever: over SSH, in a class of thirty,
        # that is a steady load on the server for nothing. A class's apps hold it still.
        self.editor.cursor_blink = self.output_box.stdin_line.cursor_blink = start.blinks
        self.both_ways = BothWays(self.view, self.next_run, both_ways, lambda toggle: remember(both_ways=toggle))
        self.report = ReportWorker(self.view)
        self.demo = DemoFeed(self, runs, self.program, experiments, on_server)

    def compose_main(self) -> ComposeResult:
        """The screen's widgets, composed by the app (app.py says why)."""
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
        start = self.start_with
        self.banner.idle(READY_HINT)
        self.program.open_at_start(start.file, start.language)
        self.editor.focus()
        if start.problem is not None:
            self.notify(str(start.problem), title="Languages", severity="error", timeout=10)
        self.runs.connect(self)
        self.demo.start()

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
        self.next_run.changed()

    def action_open(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                unless_changes_are_kept(self, self.program, "Open the other file anyway?",
                                        lambda: self.program.open(path))

        self.app.push_screen(OpenFileScreen(self.program.folder()), chosen)

    def action_save(self) -> None:
        program = self.program
        if program.path is not None:
            program.save(program.path)
        else:
            ask_for_a_path(self, SaveAsScreen(program.language.file), program.save)

    def action_prepared_input(self) -> None:
        ask_for_input(self, self.next_run)

    def action_experiments(self) -> None:
        self.app.push_screen(ExperimentsScreen(self.experiments),
                             lambda experiment: self.load_experiment(experiment) if experiment else None)

    def load_experiment(self, experiment: Experiment) -> None:
        shared = isinstance(experiment, SharedProgram)      # the teacher's: with its limits
        unless_changes_are_kept(self, self.program, "Replace them with the teacher's program?" if shared
                                else "Replace them with the experiment?", lambda: self.show_experiment(experiment))

    def show_experiment(self, experiment: Experiment) -> None:
        self.program.load(experiment.source(), experiment.language)
        self.editor.focus()
        if not self.runs.running:
            self.banner.show_message(experiment.title.upper(),
                                     ["ctrl+r runs it", f"Expect: {experiment.expect}",
                                      f"Change it: {experiment.toggle}"])
        if isinstance(experiment, SharedProgram):
            self.limits_panel.set_limits(Limits.from_dict(experiment.limits))
            self.demo.loaded()

    def load_demo(self) -> None:
        if (shared := self.demo.latest()) is not None:
            self.load_experiment(shared)

    # --- running --------------------------------------------------------------------------

    def action_run(self) -> None:
        settings = None if self.view.refuse_if_running() else self.next_run.settings()
        if settings is None:
            return
        source, limits, stdin = settings
        # Without a prepared input (F8), the program's input stays open: the learner types.
        interactive = stdin is None
        self.view.show_run_starting(limits, interactive=interactive)
        prepared = self.next_run.prepared
        self.runs.start(source, self.program.language, limits, stdin=stdin, interactive=interactive,
                        expected_output=prepared.expected if prepared else None)

    def action_both_ways(self) -> None:
        if not self.view.refuse_if_running() and self.next_run.settings() is not None:
            self.app.push_screen(BothWaysScreen(self.both_ways))

    def both_ways_with(self, toggle: str) -> None:
        self.both_ways.remember(toggle)
        self.action_both_ways()

    # --- the history (F7) and the report ---------------------------------------------------

    def action_history(self) -> None:
        def chosen(record: RunRecord | None) -> None:
            if record is not None:
                unless_changes_are_kept(self, self.program, "Replace them with the old run?",
                                        lambda: self.reopen(record))

        self.app.push_screen(HistoryScreen(self.runs.history.store, self.runs.history.recording,
                                           self.set_history_recording), chosen)

    def set_history_recording(self, on: bool) -> None:
        self.runs.history.recording = on
        self.remember(history=on)
        self.notify("Your runs are recorded in the history (F7)" if on else
                    "Your runs are no longer recorded", title="History", timeout=3)

    def reopen(self, record: RunRecord) -> None:
        """An old run back on screen: its code in the editor, its result in the panes,
        its limits (and its input) for the next run."""
        if self.view.refuse_if_running():
            return
        self.program.load(record.source, record.language)
        self.limits_panel.set_limits(Limits.from_dict(record.limits))
        self.view.show_old_run(record)
        if record.stdin:
            # Its input comes back too, so ctrl+r runs it again as it ran (F8 changes it).
            self.next_run.prepare_input(prepared := PreparedInput(text=record.stdin))
            self.output_view.note(f"— its input is ready for the next run: {prepared.describe()} (F8) —")
        self.editor.focus()

    def write_report(self, from_history: bool) -> None:
        ask_for_a_report(self, self.report, from_history)

    # --- what the workers post (messages.py) -----------------------------------------------

    def on_engine_ready(self, message: EngineReady) -> None:
        self.next_run.offer_engine(message.info)

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.view.show_engine_failure(message.error)

    def on_run_event(self, message: RunEvent) -> None:
        if self.runs.is_current(message.run_id):      # else a late message of an earlier run
            self.view.show_event(message.event)

    def on_run_failed(self, message: RunFailed) -> None:
        if self.runs.is_current(message.run_id):
            self.view.show_failure(message.error)

    def on_pair_side(self, message: PairSide) -> None:
        self.both_ways.side_ended(message)

    def on_history_failed(self, message: HistoryFailed) -> None:
        self.notify(message.text, title="History", severity="warning", timeout=8)

    def on_report_progress(self, message: ReportProgress) -> None:
        self.report.show_progress(message)

    def on_report_done(self, message: ReportDone) -> None:
        if self.report.show_end(message):
            self.app.push_screen(ReportScreen(message.markdown or "", message.path))

    def on_demo_pushed(self, message: DemoPushed) -> None:
        self.demo.arrived(message.pushes)

    # --- the program's standard input ----------------------------------------------------

    @on(Input.Submitted, "#stdin")
    def send_line(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.send_line(event.value)

    @on(StdinLine.EndOfInput, "#stdin")
    def end_input(self, event: StdinLine.EndOfInput) -> None:
        self.view.end_input(event.pending)
