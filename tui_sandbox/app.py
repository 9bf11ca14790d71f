"""The tui-sandbox app: an editor, the limits, and what the sandbox did to the last run.

The app never blocks on Docker. The engine connection and every run live in thread
workers that post one message per engine event (messages.py); the handlers here only
update widgets. The widgets (widgets/) know nothing of Docker or workers.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Label, Select, TextArea
from textual.worker import Worker, WorkerState

from runner import (BUILTIN, Finished, Language, LanguageError, LimitError, Limits, Output, Phase,
                    Sandbox, SandboxError, SourceError, Started, Stats, for_filename, load_languages,
                    resolve)

from .commands import ExperimentCommands
from .experiments import Experiment, load_experiments
from .messages import (EngineFailed, EngineReady, RunFailed, RunFinished, RunOutput, RunPhase,
                       RunStarted, RunStats)
from .screens.confirm import ConfirmScreen
from .screens.experiments import ExperimentsScreen
from .screens.save import SaveAsScreen
from .settings import load_settings, save_setting
from .source_file import MAX_EDIT_BYTES, read_source, write_source
from .theming import DEFAULT_THEME, load_themes
from .widgets.editor import CodeEditor
from .widgets.limits import LimitsPanel
from .widgets.output import OutputView
from .widgets.stats import StatsPanel
from .widgets.verdict import VerdictBanner

QUIT_WAIT_S = 15.0
READY_HINT = "ctrl+r runs the program · F4 picks an experiment"


class SandboxApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-sandbox"
    COMMANDS = App.COMMANDS | {ExperimentCommands}
    # Priority bindings fire even while the editor has focus. Plain ctrl+letter and
    # F-keys only: they survive SSH and every terminal.
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True, id="run"),
        Binding("f5", "run", "Run", show=False, priority=True, id="run-f5"),
        Binding("ctrl+k", "kill", "Kill", priority=True, id="kill"),
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("f2", "toggle_network", "Net", priority=True, id="network"),
        Binding("f3", "toggle_read_only", "R/O", priority=True, id="read-only"),
        Binding("f4", "experiments", "Experiments", priority=True, id="experiments"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, file: str | None = None, language: str | None = None,
                 limits: Limits | None = None, sandbox: Sandbox | None = None) -> None:
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
        self.sandbox = sandbox                  # tests inject one; otherwise made in a worker
        self._sandbox_lock = threading.Lock()
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
        # The current run: run_id tells its messages from a previous run's late ones.
        self.run_id = 0
        self.running = False
        self._run_lock = threading.Lock()
        self._active_run = None
        self._cancel_requested = False
        self.last_result = None

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label("", id="file-label")
            yield Select([(name, name) for name in self.languages], value=self.language.name,
                         allow_blank=False, compact=True, id="language")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                editor = CodeEditor(id="editor")
                editor.placeholder = "Type a program here, or press F4 for a ready experiment."
                yield editor
                yield VerdictBanner(id="verdict")
                yield OutputView(id="output")
            with Vertical(id="side"):
                yield LimitsPanel(self.start_limits, id="limits")
                yield StatsPanel(id="stats")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#output", OutputView).border_title = "Output"
        self.query_one(VerdictBanner).idle(READY_HINT)
        self._open_start_file()
        self._set_language(self._start_language_choice())
        self._update_file_label()
        self.query_one(CodeEditor).focus()
        if self._startup_problem is not None:
            self.notify(str(self._startup_problem), title="Languages", severity="error", timeout=10)
        self.connect_engine()

    # --- the file ----------------------------------------------------------------------

    def _open_start_file(self) -> None:
        if not self.start_file:
            return
        path = Path(self.start_file)
        try:
            self.query_one(CodeEditor).load(read_source(path, MAX_EDIT_BYTES))
            self.path = path
        except SourceError as exc:
            if not path.exists() and not path.is_symlink():
                # Like an editor: a new file, created by the first save.
                self.path = path
                self.notify(f"{path} does not exist yet: ctrl+s creates it.", title="New file")
            else:
                # Never keep the path of a file we could not read: a save would destroy it.
                self.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)

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
        editor = self.query_one(CodeEditor)
        name = str(self.path) if self.path else "untitled"
        marker = " [b]● modified[/b]" if editor.modified else ""
        self.query_one("#file-label", Label).update(f"[b]tui-sandbox[/b]  {name}{marker}")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._update_file_label()

    def action_save(self) -> None:
        if self.path is not None:
            self._save_to(self.path)
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            path = Path(name).expanduser()
            if path.exists():
                self.push_screen(ConfirmScreen(f"{path} exists. Replace it?"),
                                 lambda yes: self._save_to(path) if yes else None)
            else:
                self._save_to(path)

        self.push_screen(SaveAsScreen(self.language.file), chosen)

    def _save_to(self, path: Path) -> None:
        editor = self.query_one(CodeEditor)
        try:
            write_source(path, editor.text)
        except SourceError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self.path = path
        editor.mark_saved()
        self._update_file_label()
        self.notify(f"Saved {path}")

    # --- the language ------------------------------------------------------------------

    def _set_language(self, language: Language) -> None:
        self.language = language
        self.query_one(CodeEditor).set_language(language)
        select = self.query_one("#language", Select)
        if select.value != language.name:
            select.value = language.name

    def on_select_changed(self, event: Select.Changed) -> None:
        # The picker's first Changed can arrive while the app is already closing.
        # It also fires once on mount with the composed value, possibly after on_mount
        # chose another language: a Changed that no longer matches the picker is stale.
        if event.value != event.select.value:
            return
        if event.select.id == "language" and isinstance(event.value, str) and self.query(CodeEditor):
            if event.value != self.language.name:
                self._set_language(self.languages[event.value])

    # --- limits ------------------------------------------------------------------------

    def action_toggle_network(self) -> None:
        on = self.query_one(LimitsPanel).toggle("network")
        self.notify(f"Network {'ON' if on else 'OFF'} for the next run", timeout=2)

    def action_toggle_read_only(self) -> None:
        on = self.query_one(LimitsPanel).toggle("read-only")
        self.notify(f"Root filesystem {'read-only' if on else 'WRITABLE'} for the next run", timeout=2)

    # --- the engine --------------------------------------------------------------------

    def _connect(self) -> Sandbox:
        """The shared Sandbox, made on first use. Called from workers only: it blocks."""
        with self._sandbox_lock:
            if self.sandbox is None:
                self.sandbox = Sandbox()
            return self.sandbox

    @work(thread=True, group="engine", exit_on_error=False)
    def connect_engine(self) -> None:
        try:
            sandbox = self._connect()
            sandbox.info   # noqa: B018 - fetched here, in the thread: it asks Docker
        except SandboxError as exc:
            self.post_message(EngineFailed(exc))
        else:
            self.post_message(EngineReady(sandbox))

    def on_engine_ready(self, message: EngineReady) -> None:
        if not self.query(LimitsPanel):       # the app closed while the worker connected
            return
        info = message.sandbox.info
        self.query_one(LimitsPanel).offer_runtimes(info.runtimes, info.cpus)

    def on_engine_failed(self, message: EngineFailed) -> None:
        if not self.query(VerdictBanner):
            return
        if not self.running:
            self.query_one(VerdictBanner).failed(message.error)
        self.notify(str(message.error), title="No sandbox engine", severity="error", timeout=15)

    # --- running -----------------------------------------------------------------------

    def action_run(self) -> None:
        if self.running:
            self.notify("A run is already going: wait for it, or ctrl+k kills it.",
                        title="Already running", severity="warning")
            return
        try:
            limits = self.query_one(LimitsPanel).limits()
        except LimitError as exc:
            self.notify(str(exc), title="Fix the limits first", severity="error", timeout=8)
            return
        source = self.query_one(CodeEditor).text
        if not source.strip():
            self.notify("The editor is empty: type a program, or press F4 for an experiment.",
                        severity="warning")
            return
        self.run_program(self.begin_run(limits), source, self.language, limits)

    def begin_run(self, limits: Limits) -> int:
        """Get the screen ready for a new run; returns the id its messages must carry."""
        self.run_id += 1
        self.running = True
        with self._run_lock:
            self._cancel_requested = False
        self.query_one(OutputView).clear()
        self.query_one(VerdictBanner).running(limits)
        self.query_one(StatsPanel).start(limits)
        return self.run_id

    def post_event(self, run_id: int, event) -> None:
        """One engine event in, one message out. Thread-safe: post_message is."""
        if isinstance(event, Output):
            self.post_message(RunOutput(run_id, event))
        elif isinstance(event, Stats):
            self.post_message(RunStats(run_id, event))
        elif isinstance(event, Started):
            self.post_message(RunStarted(run_id, event))
        elif isinstance(event, Phase):
            self.post_message(RunPhase(run_id, event.name))
        elif isinstance(event, Finished):
            self.post_message(RunFinished(run_id, event.result))

    @work(thread=True, exclusive=False, group="run", exit_on_error=False)
    def run_program(self, run_id: int, source: str, language: Language, limits: Limits) -> None:
        try:
            run = self._connect().start(source, language, limits)
        except SandboxError as exc:
            self.post_message(RunFailed(run_id, exc))
            return
        with self._run_lock:
            self._active_run = run
            cancel_now = self._cancel_requested
        if cancel_now:      # ctrl+k (or quit) came while the run was being set up
            run.cancel()
        try:
            for event in run.events():
                self.post_event(run_id, event)
        except SandboxError as exc:
            self.post_message(RunFailed(run_id, exc))
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.post_message(RunFailed(run_id, SandboxError(f"the run failed unexpectedly: {exc!r}")))
        finally:
            with self._run_lock:
                self._active_run = None

    def _cancel_active_run(self) -> bool:
        with self._run_lock:
            self._cancel_requested = True
            run = self._active_run
        if run is not None:
            run.cancel()
        return run is not None

    def action_kill(self) -> None:
        if not self.running:
            self.notify("Nothing is running.", timeout=2)
            return
        self._cancel_active_run()
        self.notify("Killing the container…", timeout=2)

    def on_run_started(self, message: RunStarted) -> None:
        if message.run_id == self.run_id:
            self.query_one(StatsPanel).border_title = f"Container {message.started.container_id[:12]}"

    def on_run_phase(self, message: RunPhase) -> None:
        if message.run_id == self.run_id and self.running:
            self.query_one(VerdictBanner).running(self.query_one(StatsPanel).limits or Limits(),
                                                  message.name)

    def on_run_output(self, message: RunOutput) -> None:
        if message.run_id == self.run_id:
            self.query_one(OutputView).write(message.output.stream, message.output.text)

    def on_run_stats(self, message: RunStats) -> None:
        if message.run_id == self.run_id:
            self.query_one(StatsPanel).update_stats(message.stats)

    def on_run_finished(self, message: RunFinished) -> None:
        if message.run_id != self.run_id:
            return
        self.running = False
        result = self.last_result = message.result
        self.query_one(VerdictBanner).result(result)
        self.query_one(StatsPanel).finish(result)
        if result.truncated:
            self.query_one(OutputView).note("— the output was cut here: the program printed past its cap —")

    def on_run_failed(self, message: RunFailed) -> None:
        if message.run_id != self.run_id:
            return
        self.running = False
        self.query_one(VerdictBanner).failed(message.error)
        self.query_one(StatsPanel).border_title = "Container"
        self.notify(str(message.error), title="Cannot run", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The workers catch everything they expect; this is the net for what they do not.
        if event.state is WorkerState.ERROR and event.worker.group == "run" and self.running:
            self.post_message(RunFailed(self.run_id, SandboxError(f"the run failed: {event.worker.error!r}")))

    # --- experiments -------------------------------------------------------------------

    def action_experiments(self) -> None:
        def chosen(experiment: Experiment | None) -> None:
            if experiment is not None:
                self.load_experiment(experiment)

        self.push_screen(ExperimentsScreen(self.experiments), chosen)

    def load_experiment(self, experiment: Experiment) -> None:
        editor = self.query_one(CodeEditor)
        if editor.modified and editor.text.strip():
            self.push_screen(ConfirmScreen("Your changes are not saved. Replace them with the experiment?"),
                             lambda yes: self._load_experiment(experiment) if yes else None)
        else:
            self._load_experiment(experiment)

    def _load_experiment(self, experiment: Experiment) -> None:
        editor = self.query_one(CodeEditor)
        editor.load(experiment.source())
        self.path = None     # an experiment is a new, unnamed buffer: saving asks for a name
        self._set_language(self.languages.get(experiment.language, self.language))
        self._update_file_label()
        editor.focus()
        if not self.running:
            banner = self.query_one(VerdictBanner)
            banner.show_message(experiment.title.upper(),
                         ["ctrl+r runs it", f"Expect: {experiment.expect}", f"Change it: {experiment.toggle}"])

    # --- themes and quitting -----------------------------------------------------------

    def watch_theme(self, name: str) -> None:
        if getattr(self, "_theme_loaded", False) and self.is_running:
            save_setting("theme", name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With a dialog open, only the limit toggles and quit stay live: ctrl+s inside the
        # save dialog must not open a second one.
        if len(self.screen_stack) > 1 and action in ("run", "save", "experiments"):
            return False
        return True

    async def action_quit(self) -> None:
        editor = self.query_one(CodeEditor)
        if editor.modified and editor.text.strip() and len(self.screen_stack) == 1:
            self.push_screen(ConfirmScreen("Your changes are not saved. Quit anyway?"),
                             lambda yes: self.run_worker(self.quit_after_run(), group="quit") if yes else None)
        else:
            await self.quit_after_run()

    async def quit_after_run(self) -> None:
        """Cancel the run and wait (a little) for its worker to remove the container: the
        worker is a thread, which exiting the app does not stop, and under a test's event
        loop nothing would wait for it at all."""
        if self._cancel_active_run() or self.running:
            self.query_one(VerdictBanner).show_message("QUITTING", ["stopping the run first…"])
            workers = [w for w in self.workers if w.group == "run" and not w.is_finished]
            try:
                await asyncio.wait_for(self.workers.wait_for_complete(workers), QUIT_WAIT_S)
            except asyncio.TimeoutError:
                pass
        self.exit()

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Quitting waits for thread workers, and a run's worker waits for its container:
        # kill the container first, so quitting is quick and leaves nothing behind.
        self._cancel_active_run()
        super().exit(result, return_code, message)


def run_app(file: str | None = None, language: str | None = None, limits: Limits | None = None) -> int:
    app = SandboxApp(file=file, language=language, limits=limits)
    app.run()
    return app.return_code or 0
