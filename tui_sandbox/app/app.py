"""The tui-sandbox app: an editor, the limits, and what the sandbox did to the last run.

The app composes the screen, binds the keys and keeps the settings. Running belongs to
`RunController` (run_controller.py): it holds the engine and the current run, blocks on
the engine only in thread workers, and posts one message per engine event (messages.py).
The handlers here only update widgets; the widgets (widgets/) know nothing of Docker.
"""

from __future__ import annotations

import asyncio
import os
import signal
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Switch, TextArea

from runner import (
    BUILTIN,
    Finished,
    Language,
    LanguageError,
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
    for_filename,
    headline,
    load_languages,
    resolve,
)

from ..compare import TOGGLES, Side, difference
from ..experiments import Experiment, load_experiments
from ..history.records import limits_of, result_of, when
from ..history.store import RunRecord
from ..settings import load_settings, save_setting, setting
from ..source_file import MAX_EDIT_BYTES, confine, files_root, read_source, write_source
from ..theming import DEFAULT_THEME, load_themes
from .commands import AppCommands, ExperimentCommands
from .messages import (
    EngineFailed,
    EngineReady,
    HistoryFailed,
    PairSide,
    ReportDone,
    ReportProgress,
    RunEvent,
    RunFailed,
)
from .run_controller import QUIT_WAIT_S, Engine, RunController
from .screens.both_ways import BothWaysScreen
from .screens.confirm import ConfirmScreen
from .screens.experiments import ExperimentsScreen
from .screens.history import HistoryScreen
from .screens.open_file import OpenFileScreen
from .screens.prepared_input import PreparedInput, PreparedInputScreen
from .screens.report import ReportScreen
from .screens.save import SaveAsScreen
from .widgets.editor import CodeEditor
from .widgets.footer import KeyBar
from .widgets.limits import LimitsPanel
from .widgets.output import OutputView
from .widgets.stats import StatsPanel
from .widgets.stdin import HINT as STDIN_HINT
from .widgets.stdin import StdinLine
from .widgets.verdict import VerdictBanner

READY_HINT = "ctrl+r runs the program · F4 picks an experiment"


# While a run goes, the footer leaves these out to make room for kill and ctrl+d (the
# keys still answer: a second run is refused, and says so).
HIDDEN_WHILE_RUNNING = {"run", "both_ways", "experiments", "open"}


class MainScreen(Screen):
    """The app's one full screen. Its footer lists the keys in the app's own order (the
    focused widget's own keys, such as ctrl+d in the input line, first), not in the
    order the editor happens to bind some of the same keys; and only those that apply."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        if getattr(self.app, "runs", None) is not None and self.app.runs.running:
            bindings = {key: active for key, active in bindings.items()
                        if active.binding.action not in HIDDEN_WHILE_RUNNING}
        order = {binding.key: i for i, binding in enumerate(SandboxApp.BINDINGS)}
        return dict(sorted(bindings.items(), key=lambda item: order.get(item[0], -1)))


class SandboxApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-sandbox"
    COMMANDS = App.COMMANDS | {ExperimentCommands, AppCommands}
    # Priority bindings fire even while the editor has focus. Plain ctrl+letter and
    # F-keys only: they survive SSH and every terminal. Short words: all of them fit
    # the footer at 80 columns (kill shows only while a run goes).
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True, id="run"),
        Binding("f5", "run", "Run", show=False, priority=True, id="run-f5"),
        Binding("ctrl+k", "kill", "Kill", priority=True, id="kill"),
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("ctrl+o", "open", "Open", priority=True, id="open"),
        Binding("f2", "toggle_network", "Net", priority=True, id="network"),
        Binding("f3", "toggle_read_only", "R/O", priority=True, id="read-only"),
        Binding("f4", "experiments", "Try", priority=True, id="experiments", tooltip="Experiments"),
        Binding("f6", "both_ways", "Both", priority=True, id="both-ways"),
        Binding("f7", "history", "History", priority=True, id="history"),
        Binding("f8", "prepared_input", "Input", priority=True, id="input"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, file: str | None = None, language: str | None = None,
                 limits: Limits | None = None, sandbox: Engine | None = None, *,
                 server: str | None = None, user: str | None = None, token: str | None = None) -> None:
        super().__init__()
        # Themes are registered before the first style pass (see the Textual notes).
        for theme in load_themes():
            self.register_theme(theme)
        remembered = load_settings().get("theme")
        self.theme = remembered if remembered in self.available_themes else DEFAULT_THEME
        self._theme_loaded = True
        self.start_file = file
        self.start_language = language
        self.start_limits = limits or Limits()
        self.server = server
        if server:
            # The teacher's server runs everything, and keeps the history of it too.
            from ..history.records import user_name
            from ..remote import RemoteSandbox

            self.runs = RunController(self, engine=sandbox, make_engine=lambda: RemoteSandbox(
                server, user=user or user_name(), token=token))
        else:
            self.runs = RunController(self, engine=sandbox)   # tests inject the engine
        self.path: Path | None = None
        try:
            self.languages = load_languages()
        except LanguageError as exc:
            self.languages = dict(BUILTIN)
            self._startup_problem: SandboxError | None = exc
        else:
            self._startup_problem = None
        self.language: Language = self.languages.get("python") or next(iter(self.languages.values()))
        self.experiments = load_experiments()
        self._waiting = False       # the running program is blocked reading its input
        # Remembered choices: whether runs go into the history, which toggle F6 flips.
        self.runs.record_history = setting("history", True, bool) and not server
        toggle = setting("both_ways", "network", str)
        self.both_toggle = toggle if toggle in TOGGLES else "network"
        self.prepared: PreparedInput | None = None      # F8: the next runs' input, or typed live
        self._pair: dict[int, tuple[Limits, RunResult | None, SandboxError | None]] = {}
        self._report_stopper = None          # set while a report is being written

    # --- layout ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        self.file_label = Label("", id="file-label")
        self.language_picker = Select([(name, name) for name in self.languages], value=self.language.name,
                                      allow_blank=False, compact=True, id="language")
        self.editor = CodeEditor(id="editor")
        # A blinking cursor redraws twice a second, for ever: over SSH, in a class of thirty,
        # that is a steady load on the server for nothing. A class's apps hold it still.
        self.editor.cursor_blink = not os.environ.get("TUI_SANDBOX_USER")
        self.editor.placeholder = "Type a program here, or press F4 for a ready experiment."
        self.banner = VerdictBanner(id="verdict")
        self.output_view = OutputView(id="output")
        self.stdin_line = StdinLine(id="stdin")
        self.limits_panel = LimitsPanel(self.start_limits, id="limits")
        self.stats_panel = StatsPanel(id="stats")
        with Horizontal(id="topbar"):
            yield self.file_label
            # The palette's key lives here: the footer is full at 80 columns.
            yield Label("[b]^p[/b] more", id="palette-hint")
            yield self.language_picker
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield self.editor
                yield self.banner
                with Vertical(id="output-box") as self.output_box:
                    yield self.output_view
                    with Horizontal(id="stdin-row") as self.stdin_row:
                        yield Label("stdin ›", id="stdin-prompt")
                        yield self.stdin_line
            with Vertical(id="side"):
                yield self.limits_panel
                yield self.stats_panel
        yield KeyBar(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.output_box.border_title = "Output"
        self.stdin_row.display = False       # only while a run's input is open
        self.banner.idle(READY_HINT)
        self._open_start_file()
        self._set_language(self._start_language_choice())
        self._update_file_label()
        self.editor.focus()
        if self._startup_problem is not None:
            self.notify(str(self._startup_problem), title="Languages", severity="error", timeout=10)
        self.runs.connect()

    # --- the file ----------------------------------------------------------------------

    def _open_start_file(self) -> None:
        if not self.start_file:
            return
        path = Path(self.start_file)
        try:
            self.editor.load(read_source(path, MAX_EDIT_BYTES))
            self.path = path
        except SourceError as exc:
            if not path.exists() and not path.is_symlink():
                # Like an editor: a new file, created by the first save.
                self.path = path
                self.notify(f"{path} does not exist yet: ctrl+s creates it.", title="New file")
            else:
                # Never keep the path of a file we could not read: a save would destroy it.
                self.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)

    def action_open(self) -> None:
        folder = (self.path.parent if self.path is not None else Path.cwd()).resolve()
        if not folder.is_dir():
            folder = Path.cwd()
        folder = files_root() or folder     # a student's app shows their own folder only

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            self.unless_changes_are_kept("Open the other file anyway?", lambda: self.open_file(path))

        self.push_screen(OpenFileScreen(folder), chosen)

    def open_file(self, path: Path) -> bool:
        """Load a program into the editor; its extension picks the language."""
        try:
            text = read_source(path, MAX_EDIT_BYTES)
        except SourceError as exc:
            self.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)
            return False
        self.editor.load(text)
        try:
            self.path = path.resolve().relative_to(Path.cwd())
        except ValueError:
            self.path = path
        found = for_filename(path.name, self.languages)
        if found is not None:
            self._set_language(found)
        self._update_file_label()
        self.editor.focus()
        self.notify(f"Opened {self.path}", timeout=3)
        return True

    def _start_language_choice(self) -> Language:
        if self.start_language:
            try:
                return resolve(self.start_language, self.languages)
            except LanguageError as exc:
                self.notify(str(exc), title="Language", severity="error", timeout=10)
        if self.path is not None:
            found = for_filename(self.path.name, self.languages)
            if found:
                return found
        return self.language

    def _update_file_label(self) -> None:
        name = str(self.path) if self.path else "untitled"
        marker = " [b]● modified[/b]" if self.editor.modified else ""
        self.file_label.update(f"[b]tui-sandbox[/b]  {name}{marker}")

    @on(TextArea.Changed, "#editor")
    def show_modified(self) -> None:
        self._update_file_label()

    def action_save(self) -> None:
        if self.path is not None:
            self._save_to(self.path)
            return

        self.ask_for_a_path(SaveAsScreen(self.language.file), self._save_to)

    def ask_for_a_path(self, screen: SaveAsScreen, then) -> None:
        """then(path) with the name given, after a yes if it would replace a file; in a
        class, only inside the student's folder (a path outside it is refused, said so)."""
        def chosen(name: str | None) -> None:
            if not name:
                return
            try:
                path = confine(Path(name).expanduser())
            except SourceError as exc:
                self.notify(str(exc), title="Not there", severity="error", timeout=10)
                return
            if path.exists():
                self.push_screen(ConfirmScreen(f"{path} exists. Replace it?"),
                                 lambda yes: then(path) if yes else None)
            else:
                then(path)

        self.push_screen(screen, chosen)

    def _save_to(self, path: Path) -> None:
        try:
            write_source(path, self.editor.text)
        except SourceError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self.path = path
        self.editor.mark_saved()
        self._update_file_label()
        self.notify(f"Saved {path}")

    # --- the language and the limits of the next run -----------------------------------

    def _set_language(self, language: Language) -> None:
        self.language = language
        self.editor.set_language(language)
        if self.language_picker.value != language.name:
            self.language_picker.value = language.name
        self.prepare_next_run()

    @on(Select.Changed, "#language")
    def switch_language(self, event: Select.Changed) -> None:
        # The picker's first Changed can arrive while the app is already closing.
        # It also fires once on mount with the composed value, possibly after on_mount
        # chose another language: a Changed that no longer matches the picker is stale.
        if event.value != event.select.value:
            return
        if isinstance(event.value, str) and self.editor.is_attached and event.value != self.language.name:
            self._set_language(self.languages[event.value])

    def action_toggle_network(self) -> None:
        on = self.limits_panel.toggle("network")
        self.notify(f"Network {'ON' if on else 'OFF'} for the next run", timeout=2)

    def action_toggle_read_only(self) -> None:
        on = self.limits_panel.toggle("read-only")
        self.notify(f"Root filesystem {'read-only' if on else 'WRITABLE'} for the next run", timeout=2)

    @on(Input.Changed, "#limits Input")
    @on(Switch.Changed, "#limits Switch")
    @on(Select.Changed, "#limits Select")
    def prepare_next_run(self) -> None:
        """The language or a limit changed: the engine may ready a container for them."""
        try:
            limits = self.limits_panel.limits()
        except LimitError:
            limits = None
        self.runs.prepare(self.language, limits)

    # --- the engine --------------------------------------------------------------------

    @on(EngineReady)
    def offer_engine_choices(self, message: EngineReady) -> None:
        if not self.limits_panel.is_attached:       # the app closed while the worker connected
            return
        self.limits_panel.offer_engine(message.info)
        self.prepare_next_run()       # the limits are now checked against what the engine gives

    @on(EngineFailed)
    def show_engine_failure(self, message: EngineFailed) -> None:
        if not self.banner.is_attached:
            return
        if not self.runs.running:
            self.banner.failed(message.error)
        self.notify(str(message.error), title="No sandbox engine", severity="error", timeout=15)

    # --- running -----------------------------------------------------------------------

    def action_run(self) -> None:
        if self.runs.running:
            self.notify("A run is already going: wait for it, or ctrl+k kills it.",
                        title="Already running", severity="warning")
            return
        settings = self._next_run_settings()
        if settings is None:
            return
        source, limits, stdin = settings
        # Without a prepared input (F8), the program's input stays open: the learner types.
        interactive = stdin is None
        self.show_run_starting(limits, interactive=interactive)
        self.runs.start(source, self.language, limits, stdin=stdin, interactive=interactive)

    def show_run_starting(self, limits: Limits, interactive: bool = False) -> None:
        """Get the screen ready for a new run under these limits. Interactive, the input
        line opens under the output and takes the focus: the program may ask."""
        self.output_view.clear()
        self.output_box.border_subtitle = ""
        self.banner.running(limits)
        self.stats_panel.start(limits)
        self._waiting = False
        self.stdin_line.value = ""
        self.stdin_line.disabled = not interactive
        self.stdin_line.placeholder = STDIN_HINT
        self.stdin_row.display = interactive
        if interactive:
            self.stdin_line.focus()
        self.refresh_bindings()       # kill shows in the footer while a run goes

    def show_run_ended(self) -> None:
        """The input line closes, and the focus goes back to the editor."""
        self._waiting = False
        self.output_box.border_subtitle = ""
        had_focus = self.focused is None or self.focused is self.stdin_line
        self.stdin_row.display = False
        self.stdin_line.disabled = True
        if had_focus and len(self.screen_stack) == 1:
            self.editor.focus()
        self.refresh_bindings()

    # --- the program's standard input ----------------------------------------------------

    @on(Input.Submitted, "#stdin")
    def send_line(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.runs.running:
            return
        line = event.value + "\n"
        self.stdin_line.value = ""
        self.runs.send_input(line)
        self.output_view.echo(line)

    @on(StdinLine.EndOfInput, "#stdin")
    def end_input(self, event: StdinLine.EndOfInput) -> None:
        if not self.runs.running:
            return
        if event.pending:
            self.runs.send_input(event.pending)
            self.output_view.echo(event.pending)
        self.runs.close_input()
        self.output_view.note("— end of input (ctrl+d) —")
        self.stdin_line.placeholder = "the input is closed (ctrl+d)"
        self.stdin_line.disabled = True
        self.editor.focus()

    def show_waiting(self, waiting: bool) -> None:
        """The program is blocked reading its input (or no longer): say so where the
        learner looks, the banner and the output's frame."""
        if waiting == self._waiting or not self.runs.running:
            return
        self._waiting = waiting
        limits = self.runs.limits or Limits()
        if waiting:
            self.banner.waiting(limits, closed=self.stdin_line.disabled)
            self.output_box.border_subtitle = "waiting for input"
        else:
            self.banner.running(limits)
            self.output_box.border_subtitle = ""

    def action_kill(self) -> None:
        if not self.runs.running:
            self.notify("Nothing is running.", timeout=2)
            return
        self.runs.cancel()
        self.notify("Killing the container…", timeout=2)

    @on(RunEvent)
    def show_run_event(self, message: RunEvent) -> None:
        if not self.runs.is_current(message.run_id):
            return          # a late message of an earlier run
        match message.event:
            case Queued(message=text):
                self.banner.show_message("QUEUED…", [text, "the server runs a few at a time, in turn"])
            case Started(container_id=container_id):
                self.stats_panel.border_title = f"Container {container_id[:12]}"
                if self.runs.running:
                    self.banner.running(self.runs.limits or Limits())
            case Phase(name=name):
                if self.runs.running:
                    self.banner.running(self.runs.limits or Limits(), name)
            case Output(stream=stream, text=text):
                self.output_view.write(stream, text)
            case Stats() as stats:
                self.stats_panel.update_stats(stats)
                if stats.reading_input is not None:
                    self.show_waiting(stats.reading_input)
            case Finished(result=result):
                self.runs.end(result)
                self.show_run_ended()
                self.banner.result(result)
                self.stats_panel.finish(result)
                if result.truncated:
                    self.output_view.note("— the output was cut here: the program printed past its cap —")

    @on(HistoryFailed)
    def show_history_failure(self, message: HistoryFailed) -> None:
        self.notify(message.text, title="History", severity="warning", timeout=8)

    @on(RunFailed)
    def show_run_failure(self, message: RunFailed) -> None:
        if not self.runs.is_current(message.run_id):
            return
        self.runs.end()
        self.show_run_ended()
        self.banner.failed(message.error)
        self.stats_panel.border_title = "Container"
        self.notify(str(message.error), title="Cannot run", severity="error", timeout=10)

    # --- the prepared input (F8) ----------------------------------------------------------

    def action_prepared_input(self) -> None:
        def chosen(answer: PreparedInput | None | bool) -> None:
            if answer is None:
                return
            self.prepared = answer if isinstance(answer, PreparedInput) else None
            self._show_input_source()
            self.notify("The next runs read " + ("the prepared input, then end of file" if self.prepared
                                                 else "what you type as they run"), timeout=3)

        self.push_screen(PreparedInputScreen(self.prepared), chosen)

    def _show_input_source(self) -> None:
        self.limits_panel.show_input(self.prepared.describe() if self.prepared else "typed as it runs")

    # --- both ways (F6) --------------------------------------------------------------------

    def action_both_ways(self) -> None:
        if self.runs.running:
            self.notify("A run is going: wait for it, or ctrl+k kills it.", title="Already running",
                        severity="warning")
            return
        if self._next_run_settings() is None:
            return
        self.push_screen(BothWaysScreen(self.both_toggle, start=self.start_both_ways, stop=self.runs.cancel,
                                        remember=self.remember_both_toggle))

    def both_ways_with(self, toggle: str) -> None:
        self.remember_both_toggle(toggle)
        self.action_both_ways()

    def remember_both_toggle(self, toggle: str) -> None:
        self.both_toggle = toggle
        save_setting("both_ways", toggle)

    def _next_run_settings(self) -> tuple[str, Limits, str | bytes | None] | None:
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

    def start_both_ways(self, toggle: str) -> int | None:
        """Start the program twice, the toggle off and on; None if it cannot run now."""
        settings = self._next_run_settings()
        if settings is None or self.runs.running:
            return None
        source, limits, stdin = settings
        self._pair = {}
        self.banner.show_message("BOTH WAYS…", [f"{TOGGLES[toggle].off}, then {TOGGLES[toggle].on}",
                                                "ctrl+k stops both"])
        run_id = self.runs.start_pair(source, self.language, TOGGLES[toggle].sides(limits), stdin=stdin)
        self.refresh_bindings()
        return run_id

    @on(PairSide)
    def show_pair_side(self, message: PairSide) -> None:
        if not self.runs.is_current(message.run_id):
            return
        self._pair[message.side] = (message.limits, message.result, message.error)
        screen = next((s for s in self.screen_stack if isinstance(s, BothWaysScreen)), None)
        if screen is not None:
            screen.show_side(message.run_id, message.side, message.limits, message.result, message.error)
        if len(self._pair) < 2:
            return
        self.runs.end()
        self.refresh_bindings()
        toggle = TOGGLES[self.both_toggle if screen is None else screen.toggle]
        (_, off, off_error), (_, on, on_error) = self._pair[0], self._pair[1]
        line = difference(Side(toggle.off, off, off_error.message if off_error else None),
                          Side(toggle.on, on, on_error.message if on_error else None))
        self.last_difference = line
        if screen is not None:
            screen.show_difference(message.run_id, line)
        self.banner.show_message("BOTH WAYS", [line])
        # The panes show the two runs too, one after the other (F7 has each in full).
        self.output_view.clear()
        for title, result, error in ((toggle.column_off, off, off_error), (toggle.column_on, on, on_error)):
            self.output_view.note(f"— {title.lower()}: " + (headline(result) if result else "not run") + " —")
            if result is None:
                self.output_view.write("stderr", (error.message if error else "no result") + "\n")
                continue
            if result.output:
                self.output_view.write("stdout", result.output if result.output.endswith("\n")
                                       else result.output + "\n")
            if result.error:
                self.output_view.write("stderr", result.error)
        if on is not None:
            self.stats_panel.finish(on)
            self.stats_panel.border_title = f"Container · {toggle.column_on.lower()}"

    # --- the history (F7) ----------------------------------------------------------------

    def action_history(self) -> None:
        def chosen(record: RunRecord | None) -> None:
            if record is None:
                return
            self.unless_changes_are_kept("Replace them with the old run?", lambda: self.reopen(record))

        self.push_screen(HistoryScreen(self.runs.history, self.runs.record_history, self.set_history_recording),
                         chosen)

    def set_history_recording(self, on: bool) -> None:
        self.runs.record_history = on
        save_setting("history", on)
        self.notify("Your runs are recorded in the history (F7)" if on else
                    "Your runs are no longer recorded", title="History", timeout=3)

    def reopen(self, record: RunRecord) -> None:
        """An old run back on screen: its code in the editor, its result in the panes,
        its limits for the next run."""
        if self.runs.running:
            self.notify("A run is going: wait for it, or ctrl+k kills it.", severity="warning")
            return
        self.editor.load(record.source)
        self.path = None
        self._set_language(self.languages.get(record.language, self.language))
        self.limits_panel.set_limits(limits_of(record.limits))
        self._update_file_label()
        self.output_view.clear()
        result = result_of(record)
        if result is None:
            self.banner.failed(SandboxError(record.kill_reason))
        else:
            self.banner.result(result)
            self.stats_panel.finish(result)
            self.stats_panel.border_title = "Container · from the history"
            if result.output:
                self.output_view.write("stdout", result.output)
            if result.error:
                self.output_view.write("stderr", result.error)
            if result.truncated:
                self.output_view.note("— the output was cut here —")
        self.output_view.note(f"— reopened from the history: the run of {when(record.finished_at)} —")
        if record.stdin:
            # Its input comes back too, so ctrl+r runs it again as it ran (F8 changes it).
            self.prepared = PreparedInput(text=record.stdin)
            self._show_input_source()
            self.output_view.note(f"— its input is ready for the next run: {self.prepared.describe()} (F8) —")
        self.editor.focus()

    # --- the report -----------------------------------------------------------------------

    def action_report(self) -> None:
        self._ask_report_path("REPORT.md", from_history=False)

    def action_report_history(self) -> None:
        self._ask_report_path("MY-RUNS.md", from_history=True)

    def _ask_report_path(self, suggestion: str, from_history: bool) -> None:
        if self._report_stopper is not None:
            self.notify("A report is being written already.", severity="warning")
            return

        what = "your runs' report" if from_history else "the report (enter runs the experiments for real)"
        self.ask_for_a_path(SaveAsScreen(suggestion, f"Write {what} to (esc cancels):"),
                            lambda path: self.write_report(path, from_history))

    def write_report(self, path: Path, from_history: bool) -> None:
        """Run the experiments (or read the history) in a thread, and write the report."""
        from ..report import Stopper

        self._report_stopper = Stopper()
        self.notify("Running the experiments in fresh containers: about half a minute." if not from_history
                    else "Reading your runs from the history…", title="Report", timeout=5)
        self.run_worker(partial(self._write_report, path, from_history, self._report_stopper),
                        name="report", group="report", thread=True, exit_on_error=False)

    def _write_report(self, path: Path, from_history: bool, stopper) -> None:
        from ..report import experiment_report, history_report

        try:
            engine = self.runs.engine()
            if from_history:
                text = history_report(history_path=self.runs.history_path, sandbox=engine)
            else:
                def progress(done: int, total: int, case) -> None:
                    verdict = case.result.verdict.value.upper() if case.result else "NOT RUN"
                    self.post_message(ReportProgress(done, total, f"{case.title}: {verdict}"))

                text = experiment_report(engine, progress=progress, stopper=stopper).markdown()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except SandboxError as exc:
            self.post_message(ReportDone(str(path), None, exc.message))
        except OSError as exc:
            self.post_message(ReportDone(str(path), None, f"cannot write {path}: {exc.strerror}"))
        else:
            self.post_message(ReportDone(str(path), text, None))

    @on(ReportProgress)
    def show_report_progress(self, message: ReportProgress) -> None:
        if not self.runs.running and self.banner.is_attached:
            self.banner.show_message(f"REPORT {message.done}/{message.total}", [message.text])

    @on(ReportDone)
    def show_report(self, message: ReportDone) -> None:
        self._report_stopper = None
        if message.error is not None:
            self.notify(message.error, title="No report", severity="error", timeout=10)
            return
        if not self.runs.running:
            self.banner.show_message("REPORT", [f"written to {message.path}"])
        self.push_screen(ReportScreen(message.markdown or "", message.path))

    # --- experiments -------------------------------------------------------------------

    def action_experiments(self) -> None:
        def chosen(experiment: Experiment | None) -> None:
            if experiment is not None:
                self.load_experiment(experiment)

        self.push_screen(ExperimentsScreen(self.experiments), chosen)

    def load_experiment(self, experiment: Experiment) -> None:
        self.unless_changes_are_kept("Replace them with the experiment?",
                                     lambda: self._load_experiment(experiment))

    def unless_changes_are_kept(self, question: str, then) -> None:
        """then() at once; or, with unsaved changes in the editor, once the learner says
        they may go ("Your changes are not saved." and the question)."""
        if self.editor.modified and self.editor.text.strip():
            self.push_screen(ConfirmScreen(f"Your changes are not saved. {question}"),
                             lambda yes: then() if yes else None)
        else:
            then()

    def _load_experiment(self, experiment: Experiment) -> None:
        self.editor.load(experiment.source())
        self.path = None     # an experiment is a new, unnamed buffer: saving asks for a name
        self._set_language(self.languages.get(experiment.language, self.language))
        self._update_file_label()
        self.editor.focus()
        if not self.runs.running:
            self.banner.show_message(experiment.title.upper(),
                                     ["ctrl+r runs it", f"Expect: {experiment.expect}",
                                      f"Change it: {experiment.toggle}"])

    # --- themes and quitting -----------------------------------------------------------

    def watch_theme(self, name: str) -> None:
        if getattr(self, "_theme_loaded", False) and self.is_running:
            save_setting("theme", name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With a dialog open, only the limit toggles, kill and quit stay live: ctrl+s inside
        # the save dialog must not open a second one (and the dialog's own keys get theirs).
        if len(self.screen_stack) > 1 and action in ("run", "save", "experiments", "open", "both_ways",
                                                     "history", "prepared_input"):
            return False
        if action == "kill" and not self.runs.running:
            return False         # in the footer only while there is something to kill
        return True

    async def action_quit(self) -> None:
        if self.editor.modified and self.editor.text.strip() and len(self.screen_stack) == 1:
            self.push_screen(ConfirmScreen("Your changes are not saved. Quit anyway?"),
                             lambda yes: self.run_worker(self.quit_after_run(), group="quit") if yes else None)
        else:
            await self.quit_after_run()

    async def quit_after_run(self) -> None:
        """Stop the run (and a report's runs) first, waiting (a little) until their
        containers are killed and removed."""
        if self.runs.busy:
            self.banner.show_message("QUITTING", ["stopping the run first…"])
            await self.runs.quit()
        if self._report_stopper is not None:
            self.banner.show_message("QUITTING", ["stopping the report's runs first…"])
            self._report_stopper.stop()
            workers = [w for w in self.workers if w.group == "report" and not w.is_finished]
            try:
                await asyncio.wait_for(self.workers.wait_for_complete(workers), QUIT_WAIT_S)
            except asyncio.TimeoutError:
                pass
        self.exit()

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Quitting waits for thread workers, and a run's worker waits for its container:
        # kill the container first, so quitting is quick and leaves nothing behind.
        self.runs.stop()
        if self._report_stopper is not None:
            self._report_stopper.stop()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        # The app is going, however it ends (a test ends it without exit()): no more runs
        # or spares, and an engine the app made is closed, off the event loop.
        self.runs.stop()
        if self._report_stopper is not None:
            self._report_stopper.stop()
        self.runs.close_soon()


def run_app(file: str | None = None, language: str | None = None, limits: Limits | None = None, *,
            server: str | None = None, user: str | None = None, token: str | None = None) -> int:
    """Open the app; with server, every run goes to that `tui-sandbox serve` instead of the
    local engine (a class's apps, a laptop without Docker)."""
    app = SandboxApp(file=file, language=language, limits=limits, server=server, user=user, token=token)
    # A hang-up (an SSH connection that dropped) or a SIGTERM quits as ctrl+c would: the
    # run is cancelled and its container removed on the way out, never left to its deadline.
    for hang_up in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(hang_up, signal.default_int_handler)
    app.run()
    return app.return_code or 0
