"""The tui-sandbox app: an editor, the limits, and what the sandbox did to the last run.

The app binds the keys, keeps the themes and the remembered choices, pushes the dialogs
and quits. The main screen (screens/main.py) owns the layout and shows the runs.
Running belongs to `RunController` (run_controller.py): it holds the engine and the
current run, blocks on the engine only in thread workers, and posts one message per
engine event (messages.py) to the app, which hands each to what shows it: the main
screen, F6's pair (screens/both_ways.py), or the report's worker (report_worker.py).
"""

from __future__ import annotations

import signal
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from runner import Engine, Limits

from ..experiments import Experiment, load_experiments
from ..history.store import RunRecord
from ..settings import Settings
from ..theming import DEFAULT_THEME, load_themes
from .commands import AppCommands, ExperimentCommands
from .demo import DemoFeed, SharedProgram
from .dialogs import ask_for_a_path, ask_for_input, unless_changes_are_kept
from .messages import ReportDone, ReportProgress
from .program import languages_or_builtin
from .report_worker import ReportWorker
from .run_controller import QUIT_WAIT_S, make_controller
from .screens.both_ways import BothWays, BothWaysScreen
from .screens.confirm import ConfirmScreen
from .screens.experiments import ExperimentsScreen
from .screens.history import HistoryScreen
from .screens.main import MainScreen
from .screens.open_file import OpenFileScreen
from .screens.save import SaveAsScreen
from .widgets.editor import CodeEditor


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
        Binding("f9", "load_demo", "Demo", show=False, priority=True, id="demo"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, file: str | None = None, language: str | None = None,
                 limits: Limits | None = None, sandbox: Engine | None = None, *,
                 server: str | None = None, user: str | None = None, token: str | None = None) -> None:
        super().__init__()
        # Themes are registered before the first style pass (see the Textual notes).
        for theme in load_themes():
            self.register_theme(theme)
        self.settings = Settings.load()
        remembered = self.settings.theme
        self.theme = remembered if remembered in self.available_themes else DEFAULT_THEME
        self._theme_loaded = True
        self.start_file, self.start_language = file, language
        self.start_limits = limits or Limits()
        self.runs = make_controller(sandbox, server=server, user=user, token=token)
        self.languages, self.startup_problem = languages_or_builtin()
        self.experiments = load_experiments()
        # Remembered: whether runs go into the history (F7); F6's toggle is the pair's.
        self.runs.history.recording = self.settings.history and not server
        self.both_ways = BothWays(self)
        self.report = ReportWorker(self, self.runs)
        self.demo = DemoFeed(self, on_server=bool(server))
        self._main: MainScreen | None = None

    def get_default_screen(self) -> Screen:
        self._main = MainScreen(self.runs, id="_default")
        return self._main

    def compose(self) -> ComposeResult:
        # The main screen's layout, composed here and so into it: the default screen's own
        # compose runs before the app does, when Textual does not wait for its widgets,
        # while the app's is waited for, and on_mount comes after it.
        yield from self._main.compose_main()

    def on_mount(self) -> None:
        self._main.start()
        self.demo.start()

    @property
    def main_screen(self) -> MainScreen:
        return self._main

    # What the snapshot tests and the screenshots script reach for, on the main screen.
    @property
    def editor(self) -> CodeEditor:
        return self._main.editor

    def show_run_starting(self, limits: Limits, interactive: bool = False) -> None:
        self._main.view.show_run_starting(limits, interactive)

    # --- the program -------------------------------------------------------------------

    def action_open(self) -> None:
        program = self._main.program

        def chosen(path: Path | None) -> None:
            if path is not None:
                unless_changes_are_kept(self, "Open the other file anyway?", lambda: program.open(path))

        self.push_screen(OpenFileScreen(program.folder()), chosen)

    def action_save(self) -> None:
        program = self._main.program
        if program.path is not None:
            program.save(program.path)
        else:
            ask_for_a_path(self, SaveAsScreen(program.language.file), program.save)

    def action_load_demo(self) -> None:
        self.demo.load_latest()

    def action_experiments(self) -> None:
        self.push_screen(ExperimentsScreen(self.experiments),
                         lambda experiment: self.load_experiment(experiment) if experiment else None)

    def load_experiment(self, experiment: Experiment) -> None:
        if isinstance(experiment, SharedProgram):       # the teacher's: with its limits
            return self.demo.load(experiment)
        unless_changes_are_kept(self, "Replace them with the experiment?",
                                lambda: self._main.show_experiment(experiment))

    # --- the next run, and running it --------------------------------------------------

    def action_toggle_network(self) -> None:
        on = self._main.limits_panel.toggle("network")
        self.notify(f"Network {'ON' if on else 'OFF'} for the next run", timeout=2)

    def action_toggle_read_only(self) -> None:
        on = self._main.limits_panel.toggle("read-only")
        self.notify(f"Root filesystem {'read-only' if on else 'WRITABLE'} for the next run", timeout=2)

    def action_prepared_input(self) -> None:
        ask_for_input(self, self._main)

    def refuse_if_running(self) -> bool:
        if self.runs.running:
            self.notify("A run is already going: wait for it, or ctrl+k kills it.",
                        title="Already running", severity="warning")
        return self.runs.running

    def action_run(self) -> None:
        settings = None if self.refuse_if_running() else self._main.next_run_settings()
        if settings is None:
            return
        source, limits, stdin = settings
        # Without a prepared input (F8), the program's input stays open: the learner types.
        interactive = stdin is None
        self._main.view.show_run_starting(limits, interactive=interactive)
        expected = self._main.prepared.expected if self._main.prepared else None
        self.runs.start(source, self._main.program.language, limits, stdin=stdin, interactive=interactive,
                        expected_output=expected)

    def action_kill(self) -> None:
        if not self.runs.running:
            self.notify("Nothing is running.", timeout=2)
            return
        self.runs.cancel()
        self.notify("Killing the container…", timeout=2)

    def action_both_ways(self) -> None:
        if not self.refuse_if_running() and self._main.next_run_settings() is not None:
            self.push_screen(BothWaysScreen(self.both_ways))

    def both_ways_with(self, toggle: str) -> None:
        self.both_ways.remember(toggle)
        self.action_both_ways()

    # --- the history (F7) and the report ---------------------------------------------------

    def action_history(self) -> None:
        def chosen(record: RunRecord | None) -> None:
            if record is not None:
                unless_changes_are_kept(self, "Replace them with the old run?", lambda: self.reopen(record))

        self.push_screen(HistoryScreen(self.runs.history.store, self.runs.history.recording,
                                       self.set_history_recording), chosen)

    def set_history_recording(self, on: bool) -> None:
        self.runs.history.recording = on
        self.settings = self.settings.update(history=on)
        self.notify("Your runs are recorded in the history (F7)" if on else
                    "Your runs are no longer recorded", title="History", timeout=3)

    def reopen(self, record: RunRecord) -> None:
        if not self.refuse_if_running():
            self._main.reopen(record)

    def action_report(self) -> None:
        self.report.ask(from_history=False)

    def action_report_history(self) -> None:
        self.report.ask(from_history=True)

    # --- what the workers post -----------------------------------------------------------

    def on_report_progress(self, message: ReportProgress) -> None:
        self.report.show_progress(message)

    def on_report_done(self, message: ReportDone) -> None:
        self.report.show_end(message)

    # --- themes and quitting -----------------------------------------------------------

    def watch_theme(self, name: str) -> None:
        if getattr(self, "_theme_loaded", False) and self.is_running:
            self.settings = self.settings.update(theme=name)

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
        if self._main.program.unsaved and len(self.screen_stack) == 1:
            self.push_screen(ConfirmScreen("Your changes are not saved. Quit anyway?"),
                             lambda yes: self.run_worker(self.quit_after_run(), group="quit") if yes else None)
        else:
            await self.quit_after_run()

    async def quit_after_run(self) -> None:
        """Stop the run (and a report's runs) first, waiting (a little) until their
        containers are killed and removed."""
        if self.runs.busy:
            self._main.banner.show_message("QUITTING", ["stopping the run first…"])
            await self.runs.quit()
        if self.report.busy:
            self._main.banner.show_message("QUITTING", ["stopping the report's runs first…"])
            await self.report.quit(QUIT_WAIT_S)
        self.exit()

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Quitting waits for thread workers, and a run's worker waits for its container:
        # kill the container first, so quitting is quick and leaves nothing behind.
        self.runs.stop()
        self.report.stop()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        # The app is going, however it ends (a test ends it without exit()): no more runs
        # or spares, and an engine the app made is closed, off the event loop.
        self.runs.stop()
        self.report.stop()
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
